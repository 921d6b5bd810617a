"""The services' logs: one JSON object a line with --log-format json, and no secret or
session id in any line of a scripted run (collectors, worker, backup, the web app)."""

from __future__ import annotations

import base64
import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from monitor.catalog.users import create_user
from monitor.cli import cli
from monitor.clock import SystemClock
from monitor.context import Context
from monitor.operations import logs
from monitor.settings import load_settings
from monitor.store import open_db
from monitor.web import auth
from monitor.web.app import create_app
from tests.fakes.telegram import FakeTelegram
from tests.fakes.vk import FakeVK

BOT_TOKEN = "7012345678:AAF-secret-bot-token-0123456789abcdef"
SECRETS = {
    "TSUR_SECRET_KEY": "cookie-signing-key-0123456789abcdef",
    "TSUR_VK_TOKEN": "vk1.a.user-token-secret-0123456789",
    "TSUR_VK_TOKEN_ADM_BOR": "vk1.a.community-token-secret-98765",
    "TSUR_TELEGRAM_BOT_TOKEN": BOT_TOKEN,
    "TSUR_VK_CALLBACK_SECRET": "callback-secret-0123456789",
    "TSUR_VK_CALLBACK_CONFIRMATION": "confirm-0123456789",
}
CONFIG = """
[region]
code = "52"

[workflow]
moderators_chat_id = -1009999999999

[[organisations]]
key = "adm-bor"
name = "Администрация г.о.г. Бор"
municipality = "Бор"
vk_group_id = 100002
vk_token_env = "TSUR_VK_TOKEN_ADM_BOR"

[[sources]]
key = "vk:-100002"
platform = "vk"
name = "Подслушано Бор"
municipality = "Бор"
"""


@pytest.fixture
def fakes(clock):
    vk = FakeVK(now=lambda: int(clock.now().timestamp())).start()
    vk.add_token(SECRETS["TSUR_VK_TOKEN"], "user")
    vk.add_token(SECRETS["TSUR_VK_TOKEN_ADM_BOR"], "community", group_id=100002)
    vk.add_group(100002, "Подслушано Бор", "podslushano_bor")
    tg = FakeTelegram(token=BOT_TOKEN, now=lambda: int(clock.now().timestamp())).start()
    yield vk, tg
    vk.stop()
    tg.stop()


@pytest.fixture
def env(tmp_path, fakes, monkeypatch):
    vk, tg = fakes
    (tmp_path / "tsur.toml").write_text(CONFIG, encoding="utf-8")
    values = {**SECRETS, "TSUR_CONFIG": str(tmp_path / "tsur.toml"),
              "TSUR_DB": str(tmp_path / "tsur.db"), "TSUR_VK_API_URL": vk.url,
              "TSUR_TELEGRAM_API_URL": tg.url}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    yield values
    logging.getLogger().handlers[:] = [h for h in logging.getLogger().handlers
                                       if not isinstance(h, logs.StderrHandler)]


def json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    for line in lines:
        assert line.startswith("{"), f"not a JSON log line: {line!r}"
    return [json.loads(line) for line in lines]


def test_a_scripted_run_logs_json_lines_without_secrets_or_session_ids(env, fakes, runner,
                                                                        capsys):
    vk, tg = fakes
    vk.post(-100002, "На Бору на улице Ленина третий день нет горячей воды, дети без воды!")
    tg.message(-1001000000042, "В Кстово на Советской прорвало трубу, течёт кипяток", title="Кстово")
    logged = []
    for args in (["collect", "--once"], ["worker", "--once"], ["db", "backup"]):
        result = runner.invoke(cli, [*args, "--log-format", "json"], catch_exceptions=False)
        assert result.exit_code in (0, 1), result.output
        logged += json_lines(result.output)
    events = {line["event"] for line in logged}
    assert {"started", "batch", "stopped", "worker_pass", "backup"} <= events, events
    assert tg.calls("getUpdates"), "the bot's token was used in request URLs"

    logs.configure("json")
    settings = load_settings(env["TSUR_CONFIG"])
    db = open_db(settings.database)
    ctx = Context(db, settings, SystemClock())
    create_user(db, "admin", "admin-password-1", "admin", ctx.clock.now())
    auth.limiter.failures.clear()
    client = TestClient(create_app(ctx))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"login": "admin", "password": "admin-password-1", "csrf_token": token})
    timed = re.search(r'^tsur_ingest_stage_seconds_count\{stage="label"\} (\S+)$',
                      client.get("/metrics").text, re.M)
    assert timed and float(timed.group(1)) >= 1, "the collector timed its labelling"
    for page in ("/", "/admin/sources", "/metrics", "/healthz", "/no-such-page"):
        answer = client.get(page, headers={"X-Request-ID": "req-42"} if page == "/" else {})
        assert answer.headers["X-Request-ID"]
    client.post("/vk/callback", json={"type": "confirmation", "group_id": 100002,
                                      "secret": SECRETS["TSUR_VK_CALLBACK_SECRET"]})
    web_lines = json_lines(capsys.readouterr().err)
    requests = [line for line in web_lines if line["event"] == "request"]
    assert {"/", "/admin/sources", "/metrics", "/vk/callback"} <= {r["path"] for r in requests}
    assert any(r["request_id"] == "req-42" for r in requests)

    cookie = client.cookies.get("tsur_session")
    session = json.loads(base64.b64decode(cookie.split(".")[0] + "=="))
    stored = [row["id"] for row in db["web_sessions"].rows]
    assert session["sid"] and stored
    forbidden = [*SECRETS.values(), cookie, session["sid"], *stored, "tsur_session="]
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in logged + web_lines)
    leaks = [value for value in forbidden if value and value in text]
    assert not leaks, f"secrets in the logs: {leaks}"
    db.close()


def test_the_redactor_masks_secret_values_and_their_shapes():
    redactor = logs.Redactor({"TSUR_VK_TOKEN_X": "vk1.a.abcdef123", "TSUR_DB": "/srv/tsur.db"})
    masked = redactor.mask("GET https://api.telegram.org/bot123456:AA-bb_cc/getMe "
                           "vk1.a.abcdef123 /srv/tsur.db access_token=zzz&v=5.199 "
                           "Cookie: tsur_session=eyJhbGciOi")
    assert "AA-bb_cc" not in masked and "vk1.a.abcdef123" not in masked
    assert "zzz" not in masked and "eyJhbGciOi" not in masked
    assert "/srv/tsur.db" in masked, "only secrets are masked"
