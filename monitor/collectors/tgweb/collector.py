"""Follow one public channel through its web preview, politely, from a cursor.

The preview shows the newest ~20 posts, newest last; `?before=<id>` shows the ones
before that id. One step makes at most one request:

- first run: the newest page, then `depth_pages - 1` older pages (Batch.more=True
  while paging);
- then polls of the newest page: posts above the last id are new; a known post whose
  text changed comes out again with the same external id (ingest keeps the history);
  a known post missing from a page whose id range covers it is reported deleted;
- after a pause longer than one page of posts, it pages back to the last id it had,
  so nothing in between is lost;
- a run that starts by resuming paging left half done (the last run was stopped or
  failed while paging) reads the newest page when the paging ends, so a `--once` run
  never ends without the newest posts.

Everything it needs to remember lives in the cursor, which ingest stores in the same
transaction as the posts: the last id, the paging in progress, and a bounded window
of recent ids with a hash of their text (to see edits and deletions).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import cache
from importlib import metadata

import httpx

from monitor.collectors.base import Batch, SourceError, options_from_table
from monitor.ingest.post import Post
from monitor.settings import ConfigError

from .page import Page, WebPost, parse_page

CURSOR_VERSION = 1


def _version() -> str:
    try:
        return metadata.version("tsur")
    except metadata.PackageNotFoundError:
        return "dev"


USER_AGENT = (f"tsur/{_version()} (incident monitor of a regional Centre of Regional Management;"
              " reads public channel previews, one request per channel per interval)")


@dataclass(frozen=True)
class TgWebOptions:
    """Politeness and depth; set in tsur.toml under [tgweb]."""

    depth_pages: int = 3  # pages read back on the first run (about 20 posts a page)
    interval_seconds: float = 60.0  # at least this long between two requests to a channel
    backoff_seconds: float = 30.0  # first wait after a 5xx or a network error, doubled after each
    max_backoff_seconds: float = 3600.0
    timeout_seconds: float = 20.0
    window: int = 200  # recent post ids remembered (with text hashes) for edits and deletions

    def __post_init__(self):
        if self.depth_pages < 1:
            raise ConfigError("[tgweb] depth_pages must be at least 1")
        if self.window < 40:
            raise ConfigError("[tgweb] window must be at least 40 (two pages of posts)")
        for name in ("interval_seconds", "backoff_seconds", "max_backoff_seconds"):
            if getattr(self, name) < 0:
                raise ConfigError(f"[tgweb] {name} cannot be negative")
        if self.timeout_seconds <= 0:
            raise ConfigError("[tgweb] timeout_seconds must be positive")


def options_from_settings(settings) -> TgWebOptions:
    return options_from_table(TgWebOptions, getattr(settings, "tgweb", None), "tgweb")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class TgWebCollector:
    """A collector (monitor.collectors.base.Collector) for one public channel."""

    def __init__(self, source_key: str, channel: str, *, base_url: str,
                 options: TgWebOptions | None = None, sleep=asyncio.sleep,
                 monotonic=time.monotonic, user_agent: str = USER_AGENT):
        self.source_key, self.channel = source_key, channel
        self.base_url = base_url.rstrip("/")
        self.options = options or TgWebOptions()
        self._sleep, self._monotonic, self._user_agent = sleep, monotonic, user_agent
        self._last_request: float | None = None
        self._not_before: float | None = None
        self._failures = 0
        self._read_newest = False  # whether this process has read the newest page yet

    @property
    def interval(self) -> float:
        """Seconds the runner waits after a batch with nothing more waiting."""
        return self.options.interval_seconds

    async def step(self, cursor: dict | None) -> Batch:
        state = self._state(cursor)
        paging = state["paging"]
        page = await self._fetch(paging["before"] if paging else None)
        self._check_channel(page)
        batch = self._older(state, page) if paging else self._newest(state, page)
        batch.rejected = list(page.rejected)
        return batch

    # -- what a page means -------------------------------------------------------------

    def _newest(self, state: dict, page: Page) -> Batch:
        last_id, seen = state["last_id"], state["seen"]
        deleted = [i for i in seen if page.present and i >= page.lowest and i not in page.present]
        posts = self._changed(page, seen, above=last_id)
        paging = None
        if page.present and page.before is not None:
            if last_id is None and self.options.depth_pages > 1:
                paging = {"before": page.before, "until": None,
                          "pages_left": self.options.depth_pages - 1}
            elif last_id is not None and page.lowest > last_id + 1:
                paging = {"before": page.before, "until": last_id, "pages_left": None}
        if page.present:
            last_id = max(last_id or 0, max(page.present))
        self._read_newest = True
        return self._batch(state, posts, deleted, last_id, paging)

    def _older(self, state: dict, page: Page) -> Batch:
        paging, seen = state["paging"], state["seen"]
        before, until = paging["before"], paging["until"]
        if page.present and page.lowest >= before:
            raise SourceError(f"{self._url(before)}: asked for posts before {before}, got post"
                              f" {page.lowest}; the preview no longer pages as expected",
                              kind="layout")
        deleted = [i for i in seen if page.present and page.lowest <= i < before
                   and i not in page.present]
        posts = self._changed(page, seen, above=until)
        pages_left = paging["pages_left"] - 1 if paging["pages_left"] is not None else None
        done = (not page.present or page.before is None or page.before >= before
                or (until is not None and page.lowest <= until + 1) or pages_left == 0)
        following = None if done else {"before": page.before, "until": until,
                                       "pages_left": pages_left}
        return self._batch(state, posts, deleted, state["last_id"], following,
                           more=not done or not self._read_newest)

    def _changed(self, page: Page, seen: dict[int, str], above: int | None) -> list[WebPost]:
        """New posts (not seen, above the id already covered) and edited ones."""
        return [p for p in page.posts
                if (p.id in seen and seen[p.id] != text_hash(p.text))
                or (p.id not in seen and (above is None or p.id > above))]

    def _batch(self, state, posts: list[WebPost], deleted: list[int], last_id, paging, *,
               more: bool | None = None) -> Batch:
        gone = set(deleted)
        seen = {i: h for i, h in state["seen"].items() if i not in gone}
        for post in posts:
            seen[post.id] = text_hash(post.text)
        kept = sorted(seen)[-self.options.window:]
        cursor = {
            "v": CURSOR_VERSION, "channel": self.channel, "last_id": last_id,
            "paging": paging, "seen": {str(i): seen[i] for i in kept},
        }
        return Batch(posts=[self._post(p) for p in posts], cursor=cursor,
                     deleted=[self.external_id(i) for i in sorted(deleted)],
                     more=paging is not None if more is None else more)

    def external_id(self, post_id: int) -> str:
        return f"{self.channel}_{post_id}"

    def _post(self, post: WebPost) -> Post:
        return Post(
            source=self.source_key, external_id=self.external_id(post.id), channel="telegram",
            text=post.text, created_at=post.date, author_name=post.author, url=post.permalink,
            raw=post.raw(),
        )

    def _state(self, cursor: dict | None) -> dict:
        """The cursor as typed values; a cursor of another channel or version starts over."""
        if not cursor or cursor.get("v") != CURSOR_VERSION or cursor.get("channel") != self.channel:
            return {"last_id": None, "paging": None, "seen": {}}
        try:
            return {
                "last_id": int(cursor["last_id"]) if cursor.get("last_id") is not None else None,
                "paging": cursor.get("paging") or None,
                "seen": {int(i): str(h) for i, h in (cursor.get("seen") or {}).items()},
            }
        except (TypeError, ValueError, KeyError) as error:
            raise SourceError(f"{self.source_key}: the stored cursor is damaged ({error}); clear"
                              " it (sources.cursor) to read the channel again from the newest page",
                              kind="layout") from None

    def _check_channel(self, page: Page) -> None:
        for post in page.posts:
            if post.channel.lower() != self.channel:
                raise SourceError(f"{self._url(None)} shows posts of @{post.channel}, not of"
                                  f" @{self.channel}: the channel may have been renamed",
                                  kind="access")

    # -- HTTP, politely -----------------------------------------------------------------

    def _url(self, before: int | None) -> str:
        return f"{self.base_url}/s/{self.channel}" + (f"?before={before}" if before else "")

    async def _fetch(self, before: int | None) -> Page:
        url = self._url(before)
        now = self._monotonic()
        if self._not_before is not None and now < self._not_before:
            wait = self._not_before - now
            raise SourceError(f"{url}: backing off after an error, next request in {wait:.0f} s",
                              kind="retry", retry_after=wait)
        if self._last_request is not None:
            wait = self._last_request + self.options.interval_seconds - now
            if wait > 0:
                await self._sleep(wait)
        self._last_request = self._monotonic()
        try:
            async with httpx.AsyncClient(
                headers={"User-Agent": self._user_agent, "Accept": "text/html",
                         "Accept-Language": "en"},
                timeout=self.options.timeout_seconds, follow_redirects=False,
                verify=_ssl_context(),
            ) as client:
                response = await client.get(url)
        except httpx.HTTPError as error:
            self._backoff(url, f"{type(error).__name__}: {error}", None)
        self._answer(url, response)
        self._failures, self._not_before = 0, None
        return parse_page(response.text, where=url)

    def _answer(self, url: str, response: httpx.Response) -> None:
        status = response.status_code
        if status == 200:
            return
        if status == 429:
            self._backoff(url, "429 Too Many Requests", _retry_after(response), code=429)
        if status >= 500:
            self._backoff(url, f"{status} server error", _retry_after(response), code=status)
        if status in {301, 302, 303, 307, 308}:
            raise SourceError(
                f"{url}: t.me has no public preview for @{self.channel} (it redirects to"
                f" {response.headers.get('location')}): a private channel, a user, a group, a bot"
                " or no such name", kind="access", code=status)
        raise SourceError(f"{url}: answered {status}; @{self.channel} cannot be read",
                          kind="access", code=status)

    def _backoff(self, url: str, reason: str, retry_after: float | None, code=None):
        self._failures += 1
        if retry_after is None:
            retry_after = min(self.options.backoff_seconds * 2 ** (self._failures - 1),
                              self.options.max_backoff_seconds)
        self._not_before = self._monotonic() + retry_after
        raise SourceError(f"{url}: {reason}; retrying in {retry_after:.0f} s"
                          f" (failure {self._failures} in a row)",
                          kind="retry", retry_after=retry_after, code=code)


@cache
def _ssl_context():
    """Loading the CA bundle takes ~50 ms: once per process, not once per request."""
    return httpx.create_ssl_context()


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds: a number, or an HTTP date measured against the answer's Date."""
    value = (response.headers.get("retry-after") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        until = parsedate_to_datetime(value)
        sent = parsedate_to_datetime(response.headers.get("date") or "")
    except (TypeError, ValueError):
        return None
    return max((until - sent).total_seconds(), 0.0)
