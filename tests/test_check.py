"""`tsur check` on a good and on a broken configuration."""

from __future__ import annotations

import json
from datetime import date

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from monitor.cli import cli
from monitor.demo import DEMO_CONFIG
from monitor.operations.check import run_checks
from monitor.settings import load_settings
from monitor.store import migrations, open_db

GOOD_ENV = {
    "TSUR_SECRET_KEY": "k" * 48,
    "TSUR_VK_TOKEN": "vk1.a.service-token",
    "TSUR_TELEGRAM_BOT_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    "TSUR_MAX_BOT_TOKEN": "max-bot-token", "TSUR_OK_APPLICATION_KEY": "CBAKEY",
    "TSUR_OK_APPLICATION_SECRET_KEY": "SECRET", "TSUR_OK_ACCESS_TOKEN": "-s-session",
}

BROKEN_TOML = """
[region]
code = "99"

[paths]
data = "data"
models = "models"

[database]
path = "tsur.db"

[workflow]
moderators_chat_id = -1001234567890

[[organisations]]
key = "adm-x"
name = "Администрация"
vk_token_env = "TSUR_VK_TOKEN_ADM_X"
"""


def test_a_good_configuration_passes(tmp_path, runner):
    db_path = tmp_path / "tsur.db"
    open_db(db_path).close()
    result = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "check"],
                           env={**GOOD_ENV, "TSUR_DB": str(db_path)})
    assert result.exit_code == 0, result.output
    assert "✗" not in result.output and "Всё в порядке" in result.output


def test_a_broken_configuration_names_every_problem_and_its_fix(tmp_path, runner):
    (tmp_path / "tsur.toml").write_text(BROKEN_TOML, encoding="utf-8")
    (tmp_path / "data" / "regions").mkdir(parents=True)
    version = tmp_path / "models" / "kind" / "1"
    version.mkdir(parents=True)
    (version / "model.skops").write_bytes(b"changed after training")
    (version / "manifest.json").write_text(json.dumps({"sha256": "0" * 64}), encoding="utf-8")
    (tmp_path / "models" / "registry.json").write_text(
        json.dumps({"production": {"kind": "1", "topic": "1"}}), encoding="utf-8")
    first = Migrations("tsur")
    first()(migrations._migrations[0].fn)
    first.apply(Database(tmp_path / "tsur.db"))

    result = runner.invoke(cli, ["--config", str(tmp_path / "tsur.toml"), "check",
                                 "--min-free", "100000000"], env={"TSUR_DB": None},
                           catch_exceptions=False)
    assert result.exit_code == 1
    out = result.output
    for expected in ("TSUR_SECRET_KEY не задана", "TSUR_TELEGRAM_BOT_TOKEN не задана",
                     "чат модераторов", "TSUR_VK_TOKEN_ADM_X", "no municipality list for region '99'",
                     "tsur region add 99", "модель kind 1", "no model topic 1",
                     "схема базы устарела", "tsur db upgrade", "свободно"):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    assert out.count("как исправить:") == out.count("✗ ")
    assert "Найдено проблем" in out


def test_a_configuration_that_does_not_load_is_a_problem(tmp_path, runner):
    (tmp_path / "tsur.toml").write_text("[region\ncode = 52", encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(tmp_path / "tsur.toml"), "check"])
    assert result.exit_code == 1 and "✗ конфигурация" in result.output


def test_a_year_the_calendar_was_not_checked_for_is_a_problem(tmp_path):
    settings = load_settings(DEMO_CONFIG, environ={**GOOD_ENV, "TSUR_DB": str(tmp_path / "t.db")})
    found = dict(run_checks(settings, today=date(2031, 3, 1)))
    assert "2031" in found["производственный календарь"][0].what
    december = dict(run_checks(settings, today=date(2027, 12, 10)))
    assert "2028" in december["производственный календарь"][0].what
    assert not dict(run_checks(settings, today=date(2026, 12, 7)))["производственный календарь"]


def test_max_and_ok_sources_name_the_variables_they_need(tmp_path, runner):
    db_path = tmp_path / "tsur.db"
    open_db(db_path).close()
    env = {k: v for k, v in GOOD_ENV.items() if not k.startswith(("TSUR_MAX", "TSUR_OK"))}
    result = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "check"], env={
        **env, "TSUR_DB": str(db_path), "TSUR_MAX_WEBHOOK_URL": "http://cur.example/max/webhook",
        "TSUR_OK_GROUP_TOKEN": "tkn1"})
    assert result.exit_code == 1
    for expected in ("TSUR_MAX_BOT_TOKEN не задана", "max:-70001", "вебхук MAX нужен по https",
                     "TSUR_OK_APPLICATION_KEY, TSUR_OK_APPLICATION_SECRET_KEY, TSUR_OK_ACCESS_TOKEN",
                     "ok:53038939046008", "TSUR_OK_WEBHOOK_SECRET"):
        assert expected in result.output, f"{expected!r} missing from:\n{result.output}"
