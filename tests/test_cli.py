import json

import pytest

from monitor.cli import cli


def test_classify_streams_the_exchange_format_and_reports_bad_lines(runner):
    lines = [
        {"id": "1", "text": "Третий день нет воды в Дзержинске", "source": "vk_comment",
         "source_municipality": None},
        "{broken",
        {"id": "3", "text": "Спасибо за новую остановку!", "source": "telegram",
         "source_municipality": "Бор"},
        {"id": "4", "text": 17},
    ]
    stdin = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines)
    result = runner.invoke(cli, ["classify"], input=stdin)
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["1", "3"]
    assert out[0]["municipality"] == "Дзержинск" and out[0]["kind"] == "complaint"
    assert out[1]["municipality"] == "Бор" and out[1]["kind"] == "gratitude"
    assert set(out[0]["scores"]) == {"kind", "topic", "municipality", "urgency"}
    assert "line 2" in result.stderr and "line 4" in result.stderr


def test_replay_ingests_and_reports_bad_lines(runner, tmp_path):
    good = {"source": "vk:-100003", "external_id": "-100003_1", "channel": "vk_post",
            "created_at": "2026-11-17T09:00:00+03:00", "text": "Яма на Гагарина 10"}
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(good, ensure_ascii=False) + "\nnot json\n", encoding="utf-8")
    db = tmp_path / "t.db"
    result = runner.invoke(cli, ["replay", str(path), "--db", str(db)])
    assert result.exit_code == 1
    assert "line 2" in result.stderr
    assert "1 new" in result.stdout

    from monitor.store import open_db

    assert open_db(db)["posts"].count == 1


def test_a_secret_in_the_config_file_is_refused(runner, tmp_path):
    config = tmp_path / "tsur.toml"
    config.write_text('[telegram]\ntoken = "123:abc"\n', encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(config), "db", "status"])
    assert result.exit_code == 1
    assert "environment variables" in result.output


def test_users_add_creates_a_login(runner, tmp_path, monkeypatch):
    from monitor.catalog.users import authenticate
    from monitor.demo import DEMO_CONFIG
    from monitor.store import open_db

    db = tmp_path / "t.db"
    monkeypatch.setenv("TSUR_NEW_USER_PASSWORD", "correct horse")
    assert runner.invoke(cli, ["db", "upgrade", "--db", str(db)]).exit_code == 0
    result = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "users", "add", "olga", "--role", "official",
                                 "--organisation", "adm-dzr", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert authenticate(open_db(db), "olga", "correct horse")["role"] == "official"
    again = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "users", "add", "olga", "--role", "moderator",
                                "--db", str(db)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_classify_reads_the_optional_context_of_a_reply(runner):
    outage = "Плановое отключение холодной воды 18 ноября по ул. Гайдара и Белинского (Водоканал)."
    lines = [{"id": "1", "text": "Досчатое — это стабильность 😂", "source": "vk_comment",
              "source_municipality": "Выкса", "context": outage},
             {"id": "2", "text": "Досчатое — это стабильность 😂", "source": "vk_comment",
              "source_municipality": "Выкса", "context": 17}]  # not a text: ignored
    result = runner.invoke(cli, ["classify"], input="\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    assert result.exit_code == 0, result.output
    replied, alone = (json.loads(line) for line in result.stdout.splitlines())
    assert (replied["topic"], alone["topic"]) == ("housing", "other")


def test_a_busy_port_is_reported_before_the_demo_replays_anything(runner, tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(cli, ["demo", "--db", str(tmp_path / "d.db"), "--port", str(port)])
    assert result.exit_code == 1 and f"Порт {port} на 127.0.0.1 занят" in result.output
    assert "replaying" not in result.output and not (tmp_path / "d.db").exists()


def test_serve_refuses_to_create_a_database_by_accident(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TSUR_CONFIG", raising=False)
    monkeypatch.delenv("TSUR_DB", raising=False)
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 1 and "tsur.db не найдена. Создайте её: tsur db upgrade" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [
    ["replies", "list"], ["replies", "send", "--once"], ["worker", "--once"], ["report"],
    ["sources", "list"], ["sources", "add", "vk", "club1"], ["users", "add", "olga", "--role", "moderator"],
    ["db", "status"], ["serve"]])
def test_commands_refuse_to_create_a_missing_database(runner, tmp_path, monkeypatch, command):
    from monitor.demo import DEMO_CONFIG

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TSUR_NEW_USER_PASSWORD", "correct horse")
    monkeypatch.setenv("TSUR_DB", str(tmp_path / "tsur.db"))
    result = runner.invoke(cli, ["--config", str(DEMO_CONFIG), *command])
    assert result.exit_code == 1, result.output
    assert "не найдена. Создайте её: tsur --config" in result.output
    assert "db upgrade" in result.output and "tsur demo" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_replay_and_db_upgrade_may_create_the_database(runner, tmp_path):
    db = tmp_path / "new.db"
    assert runner.invoke(cli, ["db", "upgrade", "--db", str(db)]).exit_code == 0
    assert db.exists()
    assert runner.invoke(cli, ["db", "status", "--db", str(db)]).exit_code == 0
