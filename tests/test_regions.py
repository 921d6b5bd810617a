"""`tsur region add`: a region the project does not ship, from CSV to place detection."""

import json
import shutil
from pathlib import Path

import pytest

from monitor.cli import cli
from monitor.settings import DEFAULT_DATA_DIR, DEFAULT_MODELS_DIR, load_settings
from nlp.places import Gazetteer

VLADIMIR = Path(__file__).parent / "data" / "regions" / "33-vladimirskaya.csv"
SETTLEMENTS = VLADIMIR.with_name("33-vladimirskaya.settlements.csv")


@pytest.fixture
def data_dir(tmp_path):
    """A data/ of our own: the shipped regions copied, so the real one is never touched."""
    folder = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR / "regions", folder / "regions")
    return folder


def config(tmp_path, data_dir, code="33") -> Path:
    path = tmp_path / f"tsur-{code}.toml"
    path.write_text(f'[region]\ncode = "{code}"\n\n[paths]\ndata = "{data_dir}"\n'
                    f'models = "{DEFAULT_MODELS_DIR}"\n', encoding="utf-8")
    return path


def add(runner, cfg, *args):
    return runner.invoke(cli, ["--config", str(cfg), "region", "add", *args])


def test_a_region_added_from_csv_detects_its_places_in_any_case_form(runner, tmp_path, data_dir):
    result = add(runner, config(tmp_path, data_dir), "33", str(VLADIMIR), "--settlements",
                 str(SETTLEMENTS), "--timezone", "Europe/Moscow", "--name", "Владимирская область")
    assert result.exit_code == 0, result.output
    assert "21 municipalities, 10 settlements" in result.output
    assert (data_dir / "regions" / "33-vladimirskaya.csv").exists()
    assert (data_dir / "regions" / "33-vladimirskaya.settlements.csv").exists()
    gazetteer = Gazetteer.load(data_dir / "regions", "33")
    for text, municipality in [
        ("В Покрове третий день нет воды", "Петушинский"),
        ("Под Ковровом разбили дорогу", "Ковровский"),  # the district around the town
        ("В Коврове разбили дорогу", "Ковров"),
        ("Покров Петушинского района Владимирской области: нет воды", "Петушинский"),
        ("В Гусь-Хрустальном не вывозят мусор", "Гусь-Хрустальный"),
        ("Автобус из Суздаля опять не пришёл", "Суздальский"),
        ("В Мстёре закрыли ФАП", "Вязниковский"),
        ("Во Владимире на Большой Московской яма", "Владимир"),
    ]:
        assert gazetteer.resolve(text)[0] == municipality, text
    assert gazetteer.resolve("В Нижнем Новгороде нет света")[0] is None  # another region


def test_the_new_region_works_through_tsur_classify_with_no_code_change(runner, tmp_path, data_dir):
    assert add(runner, config(tmp_path, data_dir), "33", str(VLADIMIR), "--settlements",
               str(SETTLEMENTS)).exit_code == 0
    line = json.dumps({"id": "1", "text": "В Лакинске прорвало трубу, кипяток на улице",
                       "source": "vk_comment", "source_municipality": None}, ensure_ascii=False)
    result = runner.invoke(cli, ["--config", str(config(tmp_path, data_dir)), "classify"],
                           input=line + "\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["municipality"] == "Собинский"


def test_the_time_zone_recorded_for_a_region_is_used(runner, tmp_path, data_dir):
    assert add(runner, config(tmp_path, data_dir), "33", str(VLADIMIR),
               "--timezone", "Asia/Yekaterinburg").exit_code == 0
    assert load_settings(config(tmp_path, data_dir)).timezone == "Asia/Yekaterinburg"
    explicit = config(tmp_path, data_dir)
    explicit.write_text(explicit.read_text().replace('code = "33"', 'code = "33"\ntimezone = "Europe/Moscow"'))
    assert load_settings(explicit).timezone == "Europe/Moscow"  # tsur.toml wins


def test_every_problem_of_the_csv_is_listed_with_its_line_and_nothing_is_written(runner, tmp_path, data_dir):
    bad = tmp_path / "bad.csv"
    bad.write_text("key,name,kind,center,note\nВладимир,город Владимир,городской округ,Владимир,\n"
                   "Владимир,ещё раз,городской округ,,\nСуздальский,Суздальский район,волость,Суздаль,\n",
                   encoding="utf-8")
    settlements = tmp_path / "bad.settlements.csv"
    settlements.write_text("name,municipality\nПокров,Петушинский\n", encoding="utf-8")
    result = add(runner, config(tmp_path, data_dir), "33", str(bad), "--settlements", str(settlements))
    assert result.exit_code == 1
    assert "bad.csv:3: key 'Владимир' appears twice" in result.output
    assert "bad.csv:4: kind 'волость'" in result.output
    assert "bad.settlements.csv:2: municipality 'Петушинский' is not a key" in result.output
    assert not list((data_dir / "regions").glob("33-*"))


@pytest.mark.parametrize("args, message", [
    (["33", "HEADER", ], "needs the columns key,name,kind,center,note"),
    (["33", "VLADIMIR", "--timezone", "Mars/Olympus"], "time zone 'Mars/Olympus' is unknown"),
    (["Владимир", "VLADIMIR"], "two- or three-digit code"),
    (["52", "VLADIMIR"], "region 52 already exists"),
])
def test_bad_input_gets_a_clear_error(runner, tmp_path, data_dir, args, message):
    header = tmp_path / "header.csv"
    header.write_text("name;kind\nВладимир;городской округ\n", encoding="utf-8")
    args = [{"HEADER": str(header), "VLADIMIR": str(VLADIMIR)}.get(a, a) for a in args]
    result = add(runner, config(tmp_path, data_dir), *args)
    assert result.exit_code == 1 and message in result.output, result.output


ADJECTIVE_REGION = """key,name,kind,center,note
Энск,городской округ город Энск,городской округ,Энск,
Белореченский,Белореченский муниципальный округ,муниципальный округ,Белая,
Октябрьский,городской округ город Октябрьский,городской округ,Октябрьский,
"""


@pytest.fixture
def adjective_region(runner, tmp_path, data_dir):
    """Region 99 with adjective-shaped centres and no settlements list."""
    csv_path = tmp_path / "99-enskaya.csv"
    csv_path.write_text(ADJECTIVE_REGION, encoding="utf-8")
    result = add(runner, config(tmp_path, data_dir, "99"), "99", str(csv_path), "--name", "Энская область")
    assert result.exit_code == 0, result.output
    return result, Gazetteer.load(data_dir / "regions", "99")


def test_without_settlements_region_add_warns_in_russian(adjective_region):
    result, _ = adjective_region
    assert "ВНИМАНИЕ: список населённых пунктов (--settlements) не задан" in result.output
    assert "муниципалитет страницы" in result.output


def test_the_regions_own_name_is_never_a_place_outside(adjective_region):
    result, gazetteer = adjective_region
    assert "название региона: Энская область" in result.output
    assert gazetteer.resolve("Энск Энской области, третий день нет воды")[0] == "Энск"
    assert gazetteer.resolve("Энск Оренбургской области, нет воды")[0] is None


def test_a_region_without_a_known_name_gets_a_warning(runner, tmp_path, data_dir):
    csv_path = tmp_path / "98-neizvestnaya.csv"
    csv_path.write_text(ADJECTIVE_REGION, encoding="utf-8")
    result = add(runner, config(tmp_path, data_dir, "98"), "98", str(csv_path))
    assert result.exit_code == 0 and "название региона неизвестно" in result.output


@pytest.mark.parametrize("text, municipality", [
    ("в Белой третий день нет воды", "Белореченский"),
    ("в Октябрьском прорвало трубу", "Октябрьский"),
    ("пос. Октябрьский, ул. Мира: нет света", "Октябрьский"),
    ("на фасаде белая краска облезла", None),
    ("Белая машина перекрыла выезд со двора", None),
    ("октябрьский снегопад оборвал провода", None),
    ("гостиница «Октябрьская» не платит за вывоз мусора", None),
    ("ООО «Белая» не вывозит мусор", None),
])
def test_adjective_shaped_centres_need_a_place_marker(adjective_region, text, municipality):
    result, gazetteer = adjective_region
    assert "Белая" in result.output and "Октябрьский" in result.output
    assert gazetteer.resolve(text)[0] == municipality
