"""A loopback stand-in for Telegram's public channel preview (https://t.me/s/<name>).

A real HTTP server on 127.0.0.1 that renders channel pages in the preview's markup
(templates in tgweb_pages/, written by hand after the real page structure): newest
posts last, about 20 a page, `?before=<id>` for older ones, a «more» link carrying
data-before. Tests publish, edit and delete posts on a FakeChannel, inject faults
(429 with Retry-After, 5xx, a changed layout) and read the ledger of requests.
"""

from __future__ import annotations

import html
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, urlsplit

from tests.fakes import POLL_INTERVAL

PAGES = Path(__file__).with_name("tgweb_pages")
PAGE_SIZE = 20
LAYOUTS = ("real", "no_date", "renamed_wrap", "renamed_history", "renamed_text")


def _template(name: str) -> Template:
    return Template((PAGES / name).read_text(encoding="utf-8"))


@dataclass
class FakePost:
    id: int
    text: str
    date: datetime
    views: int = 0
    media: str | None = None  # "photo": a photo block before the text
    forwarded_from: tuple[str, str | None] | None = None  # (name, url)
    service: bool = False  # "Channel photo updated" and the like
    edited: bool = False
    text_html: str | None = None  # the text block's inner HTML verbatim (markup tests)
    shown_id: str | None = None  # the id data-post shows, verbatim (hostile tests)
    shown_date: str | None = None  # the <time datetime> shown, verbatim (hostile tests)


@dataclass
class FakeChannel:
    name: str  # spelled as data-post spells it, e.g. "Gorodets_Live"
    title: str
    next_id: int = 100
    start: datetime = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    posts: dict[int, FakePost] = field(default_factory=dict)
    published: list[int] = field(default_factory=list)  # every post id ever published
    deleted: list[int] = field(default_factory=list)
    edits: list[int] = field(default_factory=list)

    def publish(self, text: str = "", *, gap: int = 0, **extra) -> FakePost:
        """A new post; `gap` skips ids (albums and deleted posts leave holes)."""
        self.next_id += gap
        post = FakePost(self.next_id, text, self.start + timedelta(minutes=7 * self.next_id),
                        views=13 * self.next_id, **extra)
        self.posts[post.id] = post
        if not post.service:
            self.published.append(post.id)
        self.next_id += 1
        return post

    def publish_many(self, count: int, prefix: str = "Сообщение") -> list[FakePost]:
        return [self.publish(f"{prefix} №{self.next_id}: нет света на улице Ленина")
                for _ in range(count)]

    def edit(self, post_id: int, text: str) -> None:
        post = self.posts[post_id]
        post.text, post.text_html, post.edited = text, None, True
        self.edits.append(post_id)

    def delete(self, post_id: int) -> None:
        del self.posts[post_id]
        self.deleted.append(post_id)


@dataclass(frozen=True)
class Request:
    channel: str
    before: int | None
    status: int
    user_agent: str
    ids: tuple[int, ...] = ()  # post ids on the page served


@dataclass
class Fault:
    status: int
    retry_after: str | None = None
    times: int = 1
    after: int = 0  # requests answered normally first (paging broken off midway)


class TgWebFake:
    """Start with `with TgWebFake() as fake:`; point TSUR_TELEGRAM_WEB_URL at fake.url."""

    def __init__(self, page_size: int = PAGE_SIZE):
        self.page_size = page_size
        self.channels: dict[str, FakeChannel] = {}
        self.files: dict[str, str] = {}  # channel -> fixture file served verbatim
        self.ledger: list[Request] = []
        self.faults: deque[Fault] = deque()
        self.layout = "real"
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._templates = {n: _template(f"{n}.html") for n in ("page", "message", "more")}

    # -- the test's controls ------------------------------------------------------------

    def channel(self, name: str, title: str = "Городец Live", **kwargs) -> FakeChannel:
        channel = FakeChannel(name, title, **kwargs)
        self.channels[name.lower()] = channel
        return channel

    def serve_file(self, channel: str, filename: str) -> None:
        self.files[channel.lower()] = (PAGES / filename).read_text(encoding="utf-8")

    def fail(self, status: int, *, retry_after: str | None = None, times: int = 1,
             after: int = 0) -> None:
        """The next `times` requests answer `status` (429 with Retry-After, 5xx…); `after`
        requests are answered normally first (a run interrupted while paging)."""
        self.faults.append(Fault(status, retry_after, times, after))

    def change_layout(self, layout: str) -> None:
        assert layout in LAYOUTS, layout
        self.layout = layout

    def requests(self, status: int | None = 200) -> list[Request]:
        return [r for r in self.ledger if status is None or r.status == status]

    @property
    def url(self) -> str:
        assert self._server, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- serving ------------------------------------------------------------------------

    def __enter__(self) -> TgWebFake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                status, headers, body = fake.answer(self.path, self.headers.get("User-Agent", ""))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                data = body.encode("utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL},
                         daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answer(self, path: str, user_agent: str) -> tuple[int, dict, str]:
        parts = urlsplit(path)
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) != 2 or segments[0] != "s":
            return 404, {"Content-Type": "text/plain"}, "not found"
        name = segments[1].lower()
        before = parse_qs(parts.query).get("before", [None])[0]
        before = int(before) if before and before.isdigit() else None
        with self.lock:
            if self.faults and self.faults[0].after > 0:
                self.faults[0].after -= 1
            elif self.faults:
                fault = self.faults[0]
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.popleft()
                self.ledger.append(Request(name, before, fault.status, user_agent))
                headers = {"Content-Type": "text/html; charset=utf-8"}
                if fault.retry_after is not None:
                    headers["Retry-After"] = fault.retry_after
                return fault.status, headers, "<html><body>Too Many Requests</body></html>"
            if name in self.files:
                self.ledger.append(Request(name, before, 200, user_agent))
                return 200, {"Content-Type": "text/html; charset=utf-8"}, self.files[name]
            channel = self.channels.get(name)
            if channel is None:  # t.me sends names without a public preview to the contact page
                self.ledger.append(Request(name, before, 302, user_agent))
                return 302, {"Location": f"/{segments[1]}"}, ""
            ids, body = self.render(channel, before)
            self.ledger.append(Request(name, before, 200, user_agent, ids))
            return 200, {"Content-Type": "text/html; charset=utf-8"}, body

    def render(self, channel: FakeChannel, before: int | None) -> tuple[tuple[int, ...], str]:
        ids = sorted(channel.posts)
        older = ids if before is None else [i for i in ids if i < before]
        shown = older[-self.page_size:]
        more = after = ""
        if shown and ids[0] < shown[0]:
            more = self._templates["more"].substitute(name=channel.name, direction="before",
                                                      id=shown[0])
        if before is not None and shown and ids[-1] > shown[-1]:
            after = self._templates["more"].substitute(name=channel.name, direction="after",
                                                       id=shown[-1])
        messages = "".join(self._message(channel, channel.posts[i]) for i in shown)
        history = ("tgme_channel_feed js-message_feed" if self.layout == "renamed_history"
                   else "tgme_channel_history js-message_history")
        page = self._templates["page"].substitute(
            title=html.escape(channel.title), name=channel.name, initial=channel.title[:1],
            subscribers="18.4K", history_class=history, more=more, messages=messages,
            after=after)
        return tuple(shown), page

    def _message(self, channel: FakeChannel, post: FakePost) -> str:
        body = post.text_html if post.text_html is not None else (
            html.escape(post.text).replace("\n", "<br/>"))
        text = ('                <div class="tgme_widget_message_text js-message_text" dir="auto">'
                f"{body}</div>\n") if (post.text or post.text_html) else ""
        media = ""
        if post.media == "photo":
            media = (f'                <a class="tgme_widget_message_photo_wrap" href="https://t.me/'
                     f'{channel.name}/{post.id}" style="width:800px;background-image:url(\'https://'
                     f'cdn4.cdn-telegram.org/file/photo_{post.id}.jpg\')"><div class="tgme_widget_'
                     'message_photo" style="padding-top:75%"></div></a>\n')
        forwarded = ""
        if post.forwarded_from:
            name, url = post.forwarded_from
            inner = f'<span dir="auto">{html.escape(name)}</span>'
            link = (f'<a class="tgme_widget_message_forwarded_from_name" href="{url}">{inner}</a>'
                    if url else
                    f'<span class="tgme_widget_message_forwarded_from_name">{inner}</span>')
            forwarded = ('                <div class="tgme_widget_message_forwarded_from '
                         f'accent_color">Forwarded from&nbsp;{link}</div>\n')
        views = ("" if post.service else f'<span class="tgme_widget_message_views">'
                 f'{_views(post.views)}</span><span class="copyonly"> views</span>')
        message = self._templates["message"].substitute(
            wrap_class=("tgme_widget_message_box js-widget_message_box"
                        if self.layout == "renamed_wrap"
                        else "tgme_widget_message_wrap js-widget_message_wrap"),
            service=" service_message" if post.service else "", name=channel.name,
            id=post.shown_id or post.id,
            view=f"v{post.id}", initial=channel.title[:1], title=html.escape(channel.title),
            forwarded=forwarded, media=media, text=text, views=views,
            edited="edited &nbsp;" if post.edited else "",
            datetime=html.escape(post.shown_date or post.date.isoformat()), time=(post.date + timedelta(hours=3)).strftime("%H:%M"),
        )
        if self.layout == "renamed_text":
            message = message.replace("tgme_widget_message_text js-message_text",
                                      "tgme_widget_message_content js-message_content")
        if self.layout == "no_date":
            message = message.replace(f'<time datetime="{post.date.isoformat()}" class="time">',
                                      '<time class="time">')
        return message


def _views(count: int) -> str:
    """Views as the preview prints them: 845, 1.2K, 3.4M."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    if count >= 1000:
        return f"{count / 1000:.1f}K"
    return str(count)
