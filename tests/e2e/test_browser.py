"""Browser tests: headless Chromium against demo-like data served by uvicorn on 127.0.0.1.

Skipped with a message when no Chromium is installed (a fresh machine still passes
the README's test command); TSUR_REQUIRE_BROWSER=1 (set by .ci/run) turns the skip
into a failure. TSUR_SCREENSHOTS=1 also writes the screenshots to docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from cdp import Browser, find_chromium
from conftest import MONDAY_MORNING

from monitor.clock import FrozenClock
from monitor.context import Context
from monitor.demo import DEMO_CONFIG, DEMO_STREAM, prepare, replay
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.settings import load_settings
from monitor.store import open_db
from monitor.web import auth
from monitor.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
DEMO_LINES = 150  # enough of the demo stream for a full first page of the queue
HOSTILE = ('Прошу принять меры! <script>alert(1)</script> яма на Гайдара в Дзержинске '
           '<img src=x onerror=alert(2)> <a href="javascript:alert(3)">тут</a>')


@pytest.fixture(scope="module")
def chromium():
    path = find_chromium()
    if path is None:
        message = ("no Chromium found (install Debian's package: apt-get install chromium, "
                   "or set TSUR_CHROMIUM); browser tests skipped")
        if os.environ.get("TSUR_REQUIRE_BROWSER") == "1":
            pytest.fail(f"TSUR_REQUIRE_BROWSER=1 but {message}")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def browser(chromium, loop):
    browser = loop.run_until_complete(Browser(chromium).start())
    yield browser
    loop.run_until_complete(browser.close())


@pytest.fixture(scope="module")
def site(tmp_path_factory, pipeline):
    """Part of the demo stream replayed through the live code path, plus a hostile post,
    served by uvicorn in a thread."""
    folder = tmp_path_factory.mktemp("e2e")
    stream = folder / "stream.jsonl"
    with open(DEMO_STREAM, encoding="utf-8") as source:
        stream.write_text("".join(line for _, line in zip(range(DEMO_LINES), source, strict=False)),
                          encoding="utf-8")
    settings = load_settings(DEMO_CONFIG, environ={"TSUR_DB": str(folder / "tsur.db")})
    clock = FrozenClock(MONDAY_MORNING)
    ctx = Context(open_db(settings.database), settings, clock, pipeline)
    prepare(ctx)
    replay(ctx, stream, exact=True)  # its last message arrives now
    ingest(ctx, [Post("vk:-100003", "-100003_990_1", "vk_comment", HOSTILE,
                      clock.now() - timedelta(minutes=3), author_name="Житель <b>Дзержинска</b>")])
    auth.limiter.failures.clear()
    with served(create_app(ctx, secret_key="e2e-secret")) as base:
        yield base, ctx
    ctx.db.close()


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    """The whole demo as `tsur demo` builds it (a month of history, the stream, the
    scenes), served like `site`: what the README's screenshots show."""
    from click.testing import CliRunner

    from monitor.cli import cli

    path = tmp_path_factory.mktemp("demo") / "tsur-demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(path), "--no-serve"])
    assert result.exit_code == 0, result.output
    ctx = Context.open(load_settings(DEMO_CONFIG, environ={"TSUR_DB": str(path)}), db_path=path)
    auth.limiter.failures.clear()
    with served(create_app(ctx, secret_key="e2e-secret")) as base:
        yield base, ctx
    ctx.db.close()


@contextmanager
def served(app):
    """The app served by uvicorn in a thread on a free port of 127.0.0.1; yields its URL."""
    app.state.live_interval = 0.5

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    ends = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > ends or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def run(loop, coroutine):
    return loop.run_until_complete(asyncio.wait_for(coroutine, 120))


async def log_in(page, base, login, password):
    await page.goto(f"{base}/login")
    await page.fill('input[name="login"]', login)
    await page.fill('input[name="password"]', password)
    await page.navigation(lambda: page.click('form.login button[type="submit"]'))
    assert await page.evaluate("location.pathname") == "/", await page.evaluate("document.body.innerText")


def incident_of(ctx, external_id: str) -> int:
    return ctx.db.execute("SELECT i.id FROM incidents i JOIN posts p ON p.id = i.post_id "
                          "WHERE p.external_id = ?", [external_id]).fetchone()[0]


def test_moderator_logs_in_filters_opens_with_the_keyboard_and_confirms(browser, site, loop):
    base, ctx = site

    async def scenario():
        page = await browser.new_page()
        await log_in(page, base, "moderator", "moderator-demo")
        assert await page.evaluate("document.querySelectorAll('table.queue tbody tr[data-href]').length") > 10
        await page.select('form.filters select[name="status"]', "new")
        await page.select('form.filters select[name="municipality"]', "Дзержинск")
        await page.navigation(lambda: page.click('form.filters button[type="submit"]'))
        assert "status=new" in await page.evaluate("location.search")
        statuses = await page.evaluate(
            "[...document.querySelectorAll('table.queue tbody tr')].map(r => r.querySelector('td.status').innerText.trim())")
        assert statuses and all(s.startswith("новый") for s in statuses)
        await page.press("j")
        assert await page.evaluate("document.querySelector('tr.selected') !== null")
        target = await page.evaluate("document.querySelector('tr.selected').dataset.href")
        await page.navigation(lambda: page.press("o"))
        assert await page.evaluate("location.pathname") == target
        await page.navigation(lambda: page.press("c"))
        heading = await page.evaluate("document.querySelector('h1').innerText")
        assert "подтверждён" in heading
        assert not page.dialogs() and not page.console_errors(), page.console_errors()
        return int(target.rsplit("/", 1)[1])

    incident = run(loop, scenario())
    assert ctx.db.execute("SELECT status FROM incidents WHERE id = ?", [incident]).fetchone()[0] == "confirmed"


def test_hostile_post_renders_as_text_and_runs_nothing(browser, site, loop):
    base, ctx = site
    incident = incident_of(ctx, "-100003_990_1")

    async def scenario():
        page = await browser.new_page()
        await log_in(page, base, "moderator", "moderator-demo")
        for url in ("/?sort=newest", f"/incidents/{incident}"):
            await page.goto(base + url)
            text = await page.evaluate("document.body.innerText")
            assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text
            assert await page.evaluate(
                "document.querySelectorAll('main script, main img, main svg, a[href^=\"javascript:\"]').length") == 0
            assert [s for s in await page.evaluate(
                "[...document.scripts].map(s => s.src)")] == [f"{base}/static/keys.js",
                                                           f"{base}/static/live.js"]
        await asyncio.sleep(0.3)
        assert page.dialogs() == []

    run(loop, scenario())


def test_official_cannot_open_another_organisations_incident(browser, site, loop):
    base, ctx = site
    other = ctx.db.execute("SELECT i.id FROM incidents i JOIN organisations o ON o.id = i.organisation_id "
                           "WHERE o.key != 'adm-dzr' LIMIT 1").fetchone()[0]

    async def scenario():
        page = await browser.new_page()
        await log_in(page, base, "dzerzhinsk", "official-demo")
        await page.goto(f"{base}/incidents/{other}")
        assert "Инцидент не найден" in await page.evaluate("document.body.innerText")
        links = await page.evaluate("[...document.querySelectorAll('table.queue a')].length")
        assert links == 0  # the 404 page is not the queue
        await page.goto(f"{base}/admin/users")
        assert "только администратору" in await page.evaluate("document.body.innerText")

    run(loop, scenario())


def test_new_incident_shows_the_live_banner_without_a_reload(browser, site, loop):
    base, ctx = site

    async def scenario():
        page = await browser.new_page()
        await log_in(page, base, "moderator", "moderator-demo")
        assert await page.evaluate("document.getElementById('live-banner').hidden")
        await asyncio.to_thread(_ingest_one, ctx)
        await page.wait_for("!document.getElementById('live-banner').hidden", timeout=20)
        banner = await page.evaluate("document.getElementById('live-banner').innerText")
        assert banner.startswith("1 новый инцидент") and "обновить" in banner
        assert (await page.evaluate("document.title")).startswith("(1)")
        await page.navigation(lambda: page.click("#live-banner a"))
        assert "Во дворе на Гагарина" in await page.evaluate("document.querySelector('table.queue').innerText")

    run(loop, scenario())


def _ingest_one(ctx):
    forked = ctx.fork()
    forked.pipeline = ctx.pipeline
    try:
        ingest(forked, [Post("vk:-100003", "-100003_991_1", "vk_comment",
                             "Во дворе на Гагарина 5 в Дзержинске прорвало трубу, течёт кипяток",
                             ctx.clock.now() - timedelta(minutes=1))])
    finally:
        forked.db.close()


def test_screenshots_of_the_main_pages(browser, demo_site, loop, tmp_path):
    """Always taken (and checked to be real images); TSUR_SCREENSHOTS=1 keeps them in docs/.
    The incident shown is one whose answer the platform accepted: the whole loop."""
    base, ctx = demo_site
    folder = SCREENSHOTS if os.environ.get("TSUR_SCREENSHOTS") == "1" else tmp_path
    incident = ctx.db.execute("SELECT o.incident_id FROM outbox o JOIN incidents i ON i.id = o.incident_id"
                              " WHERE o.status = 'published' AND i.status = 'answered'"
                              " ORDER BY o.id DESC LIMIT 1").fetchone()[0]

    async def scenario():
        page = await browser.new_page()
        await page.goto(f"{base}/login")
        await page.screenshot(folder / "login.png")
        await log_in(page, base, "moderator", "moderator-demo")
        await page.screenshot(folder / "queue.png")
        await page.goto(f"{base}/incidents/{incident}")
        await page.screenshot(folder / "incident.png")
        await page.goto(f"{base}/dashboard")
        await page.screenshot(folder / "dashboard.png")
        admin = await browser.new_page()
        await log_in(admin, base, "admin", "admin-demo-1")
        await admin.goto(f"{base}/admin/organisations")
        await admin.screenshot(folder / "admin-organisations.png")

    run(loop, scenario())
    for name in ("login", "queue", "incident", "dashboard", "admin-organisations"):
        data = (folder / f"{name}.png").read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000, name


def test_shortcut_list_and_confirming_from_the_queue(browser, site, loop):
    base, ctx = site

    async def scenario():
        page = await browser.new_page()
        await log_in(page, base, "moderator", "moderator-demo")
        assert await page.evaluate("document.getElementById('shortcuts').hidden")
        await page.press("?")
        assert not await page.evaluate("document.getElementById('shortcuts').hidden")
        await page.press("Escape")
        assert await page.evaluate("document.getElementById('shortcuts').hidden")
        await page.goto(f"{base}/?status=new")
        await page.press("j")
        await page.press("j")
        target = await page.evaluate("document.querySelector('tr.selected').dataset.id")
        await page.navigation(lambda: page.press("c"))  # acts in the queue: no incident page
        assert await page.evaluate("location.pathname + location.hash") == f"/#i{target}"
        return int(target)

    incident = run(loop, scenario())
    assert ctx.db.execute("SELECT status FROM incidents WHERE id = ?", [incident]).fetchone()[0] == "confirmed"


# --- a shift's workspace: triage in the queue, drafts ---------------------------------------


def _new_incident(ctx, municipality="Дзержинск") -> int:
    return ctx.db.execute("SELECT id FROM incidents WHERE status = 'new' AND municipality = ?"
                          " ORDER BY id DESC LIMIT 1", [municipality]).fetchone()[0]


def _assigned_to_dzerzhinsk(ctx, municipality="Дзержинск") -> int:
    from monitor.catalog.organisations import organisation_id
    from monitor.incidents.lifecycle import act

    incident = _new_incident(ctx, municipality)
    act(ctx, incident, "assign", "moderator", organisation_id=str(organisation_id(ctx.db, "adm-dzr")))
    return incident


def test_moderator_takes_an_incident_from_new_to_routed_in_the_queue_with_russian_keys(
        browser, site, loop):
    """Keys are read by their place: «о», «с», «ф», «ы» are j, c, a, s of the Russian layout."""
    base, ctx = site
    incident = _new_incident(ctx)
    urgency = "low" if ctx.db["incidents"].get(incident)["urgency"] != "low" else "high"

    async def scenario():
        page = await browser.new_page(1400, 1000)
        await log_in(page, base, "moderator", "moderator-demo")
        visible = await page.evaluate("[...document.querySelectorAll('table.queue tbody tr')]"
                                      ".filter(r => r.getBoundingClientRect().bottom <= innerHeight).length")
        assert visible >= 15, visible
        await page.evaluate("document.querySelector('tr.urgency-critical td.place').click()")
        badge = await page.evaluate("(b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor])"
                                    "(document.querySelector('tr.selected .badge'))")
        assert badge == ["rgb(255, 255, 255)", "rgb(179, 38, 30)"]  # «критично» stays readable
        await page.goto(f"{base}/?sort=newest&municipality=Дзержинск")
        position = await page.evaluate(
            f"[...document.querySelectorAll('table.queue tbody tr[data-id]')].findIndex(r => r.dataset.id == '{incident}')")
        for _ in range(position + 1):
            await page.press("о", code="KeyJ")
        assert await page.evaluate("document.querySelector('tr.selected').dataset.id") == str(incident)
        await page.navigation(lambda: page.press("с", code="KeyC"))
        assert await page.evaluate("location.pathname") == "/"
        assert await page.evaluate("document.querySelector('tr.selected').dataset.id") == str(incident)
        await page.press("ы", code="KeyS")
        assert await page.evaluate("document.activeElement.name") == "urgency"
        await page.select(f'#i{incident} select[name="urgency"]', urgency)
        await page.navigation(lambda: page.press("Enter"))
        await page.navigation(lambda: page.press("ф", code="KeyA"))
        assert await page.evaluate("location.pathname") == "/"
        assert not page.dialogs() and not page.console_errors(), page.console_errors()

    run(loop, scenario())
    row = ctx.db["incidents"].get(incident)
    assert (row["status"], row["urgency"]) == ("assigned", urgency)
    events = [r[0] for r in ctx.db.execute(
        "SELECT event FROM incident_events WHERE incident_id = ? ORDER BY id", [incident])]
    assert events[-3:] == ["confirm", "relabel", "assign"]


def test_official_writes_a_draft_in_three_steps(browser, site, loop):
    """The queue, the incident, then type and send: the draft field is in view at once."""
    base, ctx = site
    incident = _assigned_to_dzerzhinsk(ctx)

    async def scenario():
        page = await browser.new_page(1400, 1000)
        await log_in(page, base, "dzerzhinsk", "official-demo")  # step 1: the queue
        await page.navigation(lambda: page.click(f'#i{incident} td.text a'))  # step 2
        assert await page.evaluate("location.pathname") == f"/incidents/{incident}"
        top = await page.evaluate("document.querySelector('#draft textarea').getBoundingClientRect().top")
        assert top < 1000, top  # in view without scrolling
        await page.fill("#draft textarea", "Здравствуйте! Бригада выедет сегодня до 18:00.")
        await page.navigation(lambda: page.click('#draft button[value="submit_draft"]'))  # step 3
        assert "черновик на проверке" in await page.evaluate("document.querySelector('h1').innerText")

    run(loop, scenario())
    draft = ctx.db.execute("SELECT text, status FROM drafts WHERE incident_id = ?", [incident]).fetchone()
    assert draft == ("Здравствуйте! Бригада выедет сегодня до 18:00.", "pending")


def test_moderator_edits_an_officials_draft_and_approves_it(browser, site, loop):
    from monitor.incidents.lifecycle import act

    base, ctx = site
    incident = _assigned_to_dzerzhinsk(ctx, "Нижний Новгород")
    act(ctx, incident, "submit_draft", "dzerzhinsk", text="Сделаем")

    async def scenario():
        page = await browser.new_page(1400, 1000)
        await log_in(page, base, "moderator", "moderator-demo")
        await page.goto(f"{base}/incidents/{incident}")
        await page.evaluate("document.querySelector('form.review textarea[name=text]').value = ''")
        await page.fill("form.review textarea[name=text]", "Здравствуйте! Трубу заменят до пятницы.")
        await page.navigation(lambda: page.click('form.review button[value="approve_final"]'))
        heading = await page.evaluate("document.querySelector('h1').innerText")
        assert "ждёт отправки" in heading and "дан ответ" not in heading
        history = await page.evaluate("document.querySelector('ol.history').innerText")
        assert "Анна Смирнова утвердила итоговый ответ" in history

    run(loop, scenario())
    texts = [r[0] for r in ctx.db.execute(
        "SELECT text FROM outbox WHERE audience = 'resident' AND incident_id = ? AND purpose = 'answer'", [incident])]
    assert texts == ["Здравствуйте! Трубу заменят до пятницы."]
