"""A small Chrome DevTools Protocol client for the browser tests.

It starts Debian's `chromium` headless with a fresh profile and talks to it over the
DevTools WebSocket with aiohttp (already installed: aiogram depends on it), so the
tests need no browser download and no extra package. Only what the tests use is here:
open a page, navigate, evaluate JavaScript, type, press keys, take screenshots and
collect dialogs, console errors and CSP reports.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
         "--remote-debugging-port=0", "--window-size=1280,900"]


def find_chromium() -> str | None:
    """$TSUR_CHROMIUM, else `chromium` / `chromium-browser` on PATH, else /usr/bin/chromium."""
    for candidate in (os.environ.get("TSUR_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


class CDPError(Exception):
    """The browser answered a command with an error, or did not answer in time."""


class Browser:
    def __init__(self, executable: str):
        self.executable = executable
        self.profile = Path(tempfile.mkdtemp(prefix="tsur-chromium-"))
        self.process: subprocess.Popen | None = None
        self.session: aiohttp.ClientSession | None = None
        self.ws = None
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future] = {}
        self.events: list[dict] = []
        self.changed = asyncio.Event()
        self.reader: asyncio.Task | None = None

    async def start(self, timeout: float = 30) -> Browser:
        self.process = subprocess.Popen(
            [self.executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self.profile / "DevToolsActivePort"
        ends = time.monotonic() + timeout
        while not port_file.exists() or len(port_file.read_text().splitlines()) < 2:
            if self.process.poll() is not None:
                raise CDPError(f"{self.executable} exited with code {self.process.returncode}")
            if time.monotonic() > ends:
                raise CDPError(f"{self.executable} did not open its DevTools port in {timeout} s")
            await asyncio.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0)
        self.reader = asyncio.create_task(self._read())
        return self

    async def _read(self):
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            future = self.waiting.pop(data.get("id"), None)
            if future is not None and not future.done():
                future.set_result(data)
            elif "method" in data:
                self.events.append(data)
                self.changed.set()

    async def send(self, method: str, params: dict | None = None, session: str | None = None,
                   timeout: float = 30) -> dict:
        number = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.waiting[number] = future
        message = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self.ws.send_str(json.dumps(message))
        try:
            answer = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise CDPError(f"{method}: no answer in {timeout} s") from None
        if "error" in answer:
            raise CDPError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    async def new_page(self, width: int = 1280, height: int = 900) -> Page:
        """A page in a browser context of its own: no cookies shared with other pages."""
        context = await self.send("Target.createBrowserContext")
        target = await self.send("Target.createTarget", {
            "url": "about:blank", "browserContextId": context["browserContextId"]})
        attached = await self.send("Target.attachToTarget",
                                   {"targetId": target["targetId"], "flatten": True})
        page = Page(self, attached["sessionId"])
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            await page.send(domain)
        await page.send("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        return page

    async def close(self):
        if self.reader:
            self.reader.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        for _ in range(20):  # helper processes may still be writing to the profile
            shutil.rmtree(self.profile, ignore_errors=True)
            if not self.profile.exists():
                break
            await asyncio.sleep(0.1)


class Page:
    def __init__(self, browser: Browser, session: str):
        self.browser, self.session = browser, session

    def send(self, method: str, params: dict | None = None, timeout: float = 30):
        return self.browser.send(method, params, self.session, timeout)

    def events(self, method: str) -> list[dict]:
        return [e["params"] for e in self.browser.events
                if e.get("sessionId") == self.session and e["method"] == method]

    async def wait_event(self, method: str, after: int, timeout: float = 20) -> dict:
        """The first `method` event beyond the first `after` ones seen on this page."""
        ends = time.monotonic() + timeout
        while True:
            seen = self.events(method)
            if len(seen) > after:
                return seen[after]
            remaining = ends - time.monotonic()
            if remaining <= 0:
                raise CDPError(f"no {method} within {timeout} s")
            self.browser.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.browser.changed.wait(), remaining)

    async def goto(self, url: str):
        loads = len(self.events("Page.loadEventFired"))
        answer = await self.send("Page.navigate", {"url": url})
        if answer.get("errorText"):
            raise CDPError(f"navigate {url}: {answer['errorText']}")
        await self.wait_event("Page.loadEventFired", loads)

    async def navigation(self, action):
        """Run `action` (a coroutine function) and wait for the page it leads to."""
        loads = len(self.events("Page.loadEventFired"))
        await action()
        await self.wait_event("Page.loadEventFired", loads)

    async def evaluate(self, expression: str):
        answer = await self.send("Runtime.evaluate", {"expression": expression,
                                                      "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in answer:
            raise CDPError(f"{expression}: {answer['exceptionDetails'].get('text')}")
        return answer["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 20):
        ends = time.monotonic() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > ends:
                raise CDPError(f"still false after {timeout} s: {expression}")
            await asyncio.sleep(0.1)

    async def fill(self, selector: str, text: str):
        """Focus a field and type into it as a user would."""
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        await self.send("Input.insertText", {"text": text})

    async def select(self, selector: str, value: str):
        await self.evaluate(
            f"(() => {{ const s = document.querySelector({json.dumps(selector)});"
            f" s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change')); }})()")

    async def press(self, key: str, code: str | None = None):
        """A key press as the keyboard sends it (keydown, char, keyup). `code` is the key's
        place on the keyboard («KeyJ»), for a character of another layout («о»)."""
        if code is None and len(key) == 1 and key.isascii() and key.isalpha():
            code = f"Key{key.upper()}"
        code = code or {"Enter": "Enter", "Escape": "Escape", "/": "Slash"}.get(key, "")
        letter = code[3:] if code.startswith("Key") else key
        vk = {"Enter": 13, "Escape": 27}.get(key, ord(letter.upper()) if len(letter) == 1 else 0)
        params = {"key": key, "code": code, "windowsVirtualKeyCode": vk}
        await self.send("Input.dispatchKeyEvent", {"type": "keyDown", **params,
                                                   **({"text": key} if len(key) == 1 else {})})
        await self.send("Input.dispatchKeyEvent", {"type": "keyUp", **params})

    async def click(self, selector: str):
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    async def screenshot(self, path: Path):
        data = await self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data["data"]))

    def dialogs(self) -> list[dict]:
        return self.events("Page.javascriptDialogOpening")

    def console_errors(self) -> list[str]:
        logs = [f'{e["entry"]["text"]} {e["entry"].get("url", "")}'.strip()
                for e in self.events("Log.entryAdded")
                if e["entry"]["level"] == "error"]
        thrown = [e["exceptionDetails"].get("text", "") for e in self.events("Runtime.exceptionThrown")]
        return logs + thrown
