"""Read one page of a channel's web preview (t.me/s/<name>) into plain records.

The preview is HTML meant for browsers, so it is read with an HTML parser
(selectolax/lexbor), never with patterns over the markup. Anything this module
relies on and does not find raises SourceError(kind="layout") naming the missing
piece: Telegram changes its markup now and then, and a collector that guessed would
store garbage. Optional parts (views, links, forwards, media) are just absent. A part
that is there but holds a value no post can have (a post id beyond 64 bits, a time that
is not one, or of year 1 or 9999) is that post's problem, not the layout's: the post is
left out (Page.rejected, with its place and reason) and the rest of the page stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.clock import iso, parse_time
from monitor.collectors.base import SourceError
from monitor.collectors.records import EARLIEST, LATEST, MAX_ID, Rejected

# What the collector relies on; the names appear in the layout errors.
HISTORY = "section.tgme_channel_history"
WRAP = ".tgme_widget_message_wrap"
MESSAGE = ".tgme_widget_message[data-post]"
BUBBLE = ".tgme_widget_message_bubble"
TEXT = ".tgme_widget_message_text"
DATE = ".tgme_widget_message_date time[datetime]"
MORE = "a.tme_messages_more[data-before]"

# Media blocks by kind: a post may be only media, then its text is empty.
MEDIA = (
    ("photo", ".tgme_widget_message_photo_wrap"),
    ("video", ".tgme_widget_message_video_player"),
    ("round_video", ".tgme_widget_message_roundvideo_player"),
    ("voice", ".tgme_widget_message_voice_player"),
    ("document", ".tgme_widget_message_document"),
    ("sticker", ".tgme_widget_message_sticker_wrap"),
    ("poll", ".tgme_widget_message_poll"),
    ("location", ".tgme_widget_message_location_wrap"),
    ("not_supported", ".message_media_not_supported"),
)
# Tags that start a line of their own in the rendered text.
BLOCK_TAGS = {"div", "p", "blockquote", "pre", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6"}
# A page with this many posts and not one text block has lost its text class (fewer
# posts when none has a known media block either): storing them would store garbage.
TEXTLESS_PAGE, BARE_PAGE = 5, 3


class BadPost(ValueError):
    """A post whose own values cannot be right; the other posts of the page still are."""


@dataclass(frozen=True)
class WebPost:
    """One channel post as the preview shows it."""

    channel: str  # the username as data-post spells it
    id: int
    text: str
    date: datetime
    permalink: str
    views: str | None = None
    links: tuple[str, ...] = ()
    forwarded_from: dict | None = None  # {"name", "url"}; url is None for hidden origins
    reply_to: str | None = None  # permalink of the post this one answers
    media: tuple[str, ...] = ()
    author: str | None = None  # the channel's title
    signature: str | None = None  # the admin's signature, where the channel shows one
    edited: bool = False
    poll: str | None = None  # the question of a poll (a poll post has no text block)

    def raw(self) -> dict:
        """The parsed fields, JSON-ready, for the posts.raw column."""
        return {
            "channel": self.channel, "id": self.id, "text": self.text, "date": iso(self.date),
            "permalink": self.permalink, "views": self.views, "links": list(self.links),
            "forwarded_from": self.forwarded_from, "reply_to": self.reply_to,
            "media": list(self.media), "author": self.author, "signature": self.signature,
            "edited": self.edited, "poll": self.poll,
        }


@dataclass(frozen=True)
class Page:
    posts: tuple[WebPost, ...]  # oldest first
    present: frozenset[int]  # every message id on the page, service messages included
    before: int | None  # pass as ?before= for the next older page; None on the oldest page
    title: str | None = None  # the channel's title
    rejected: tuple = ()  # records.Rejected: posts that could not be read, and why

    @property
    def lowest(self) -> int | None:
        return min(self.present) if self.present else None


def parse_page(html: str, *, where: str = "page") -> Page:
    """Parse a t.me/s page; `where` names the page in error messages."""
    tree = LexborHTMLParser(html)
    history = tree.css_first(HISTORY)
    if history is None:
        if tree.css_first(".tgme_page") is not None:
            raise SourceError(f"{where}: Telegram shows no public posts here (a private channel,"
                              " a user, a group or a bot, not a public channel)", kind="access")
        _missing(where, HISTORY)
    posts, present, failed = [], set(), []
    for number, wrap in enumerate(history.css(WRAP), 1):
        message = wrap.css_first(MESSAGE)
        if message is None:
            _missing(f"{where}, message {number}", MESSAGE)
        try:
            channel, post_id = _post_ref(message.attributes.get("data-post") or "")
            present.add(post_id)
            if "service_message" in (message.attributes.get("class") or "").split():
                continue  # "channel created", "photo updated": present, but nobody's message
            posts.append(_post(message, channel, post_id, f"{where}, post {channel}/{post_id}"))
        except BadPost as error:
            failed.append(Rejected(f"{where}, message {number}", str(error)))
    if failed and not posts:  # nothing on the page could be read: the layout changed
        raise SourceError(f"{failed[0]}; nothing was stored from this page", kind="layout")
    if not present and history.css_first("[data-post]") is not None:
        _missing(where, WRAP)
    if not any(p.text for p in posts) and (
            len(posts) >= TEXTLESS_PAGE or (len(posts) >= BARE_PAGE and not any(p.media for p in posts))):
        _missing(f"{where} (none of its {len(posts)} posts has a text block)", TEXT)
    return Page(tuple(sorted(posts, key=lambda p: p.id)), frozenset(present),
                _before(tree, where), _title(tree), tuple(failed))


def _post(message: LexborNode, channel: str, post_id: int, where: str) -> WebPost:
    bubble = message.css_first(BUBBLE)
    if bubble is None:
        _missing(where, BUBBLE)
    time = message.css_first(DATE)
    if time is None:
        _missing(where, DATE)
    try:
        date = parse_time(time.attributes.get("datetime") or "")
    except ValueError:
        raise BadPost(f"{DATE} holds {time.attributes.get('datetime')!r}, not an ISO time"
                      " with a zone") from None
    if not EARLIEST <= date < LATEST:
        raise BadPost(f"{DATE} holds {date.isoformat()}, out of range")
    text_node = _child(bubble, TEXT.lstrip("."))
    forwarded = message.css_first(".tgme_widget_message_forwarded_from")
    reply = message.css_first("a.tgme_widget_message_reply[href]")
    meta = message.css_first(".tgme_widget_message_meta")
    return WebPost(
        channel=channel,
        id=post_id,
        text=text_of(text_node) if text_node is not None else "",
        date=date,
        permalink=f"https://t.me/{channel}/{post_id}",
        views=_text_or_none(message.css_first(".tgme_widget_message_views")),
        links=_links(bubble, text_node),
        forwarded_from=_forwarded(forwarded) if forwarded is not None else None,
        reply_to=reply.attributes.get("href") if reply is not None else None,
        media=tuple(kind for kind, selector in MEDIA if bubble.css_first(selector) is not None),
        author=_text_or_none(message.css_first(".tgme_widget_message_owner_name")),
        signature=_text_or_none(message.css_first(".tgme_widget_message_from_author")),
        edited=meta is not None and "edited" in meta.text().lower(),
        poll=_text_or_none(bubble.css_first(".tgme_widget_message_poll_question")),
    )


def text_of(node: LexborNode) -> str:
    """The text a reader sees: <br> and blocks become line breaks, markup is dropped,
    entities are decoded (so «&lt;b&gt;» stays the literal text «<b>»)."""
    out = _Text()
    _walk(node, out, preformatted=False)
    lines = [line.strip(" ") for line in "".join(out.pieces).split("\n")]
    return "\n".join(lines).strip()


class _Text:
    """Accumulates rendered text, collapsing whitespace the way a browser does."""

    def __init__(self):
        self.pieces: list[str] = []

    def tail(self) -> str:
        return self.pieces[-1][-1:] if self.pieces else "\n"

    def add(self, text: str, preformatted: bool) -> None:
        if not preformatted:
            text = " ".join(text.split()).join(
                (" " if text[:1].isspace() and self.tail() not in " \n" else "",
                 " " if text[-1:].isspace() and text.strip() else ""))
        if text:
            self.pieces.append(text)

    def newline(self, always: bool = False) -> None:
        if always or self.tail() != "\n":
            self.pieces.append("\n")


def _walk(node: LexborNode, out: _Text, preformatted: bool) -> None:
    for child in node.iter(include_text=True):
        if child.is_text_node:
            out.add(child.text(deep=False), preformatted)
        elif child.tag == "br":
            out.newline(always=True)
        elif child.tag in BLOCK_TAGS:
            out.newline()
            _walk(child, out, preformatted or child.tag == "pre")
            out.newline()
        elif child.tag not in {"script", "style", "template"}:
            _walk(child, out, preformatted)


def _child(parent: LexborNode, class_name: str) -> LexborNode | None:
    """The first direct child with this class: the quoted post of a reply has a text
    block of the same class one level further down, and must not be taken for this one."""
    for child in parent.iter():
        if class_name in (child.attributes.get("class") or "").split():
            return child
    return None


def _links(bubble: LexborNode, text_node: LexborNode | None) -> tuple[str, ...]:
    found: list[str] = []
    nodes = text_node.css("a[href]") if text_node is not None else []
    nodes += bubble.css("a.tgme_widget_message_link_preview[href]")
    for anchor in nodes:
        href = anchor.attributes.get("href") or ""
        if href.startswith(("http://", "https://")) and href not in found:
            found.append(href)
    return tuple(found)


def _forwarded(node: LexborNode) -> dict:
    name = node.css_first(".tgme_widget_message_forwarded_from_name")
    label = _text_or_none(name) if name is not None else None
    if label is None:  # "Forwarded from Name" with no inner element
        label = node.text(separator=" ").replace("Forwarded from", "").strip() or None
    url = name.attributes.get("href") if name is not None and name.tag == "a" else None
    return {"name": label, "url": url}


def _post_ref(value: str) -> tuple[str, int]:
    channel, _, number = value.partition("/")
    if not channel or not number.isdigit() or int(number) > MAX_ID:
        raise BadPost(f"data-post={value[:80]!r} is not <channel>/<post id>")
    return channel, int(number)


def _before(tree: LexborHTMLParser, where: str) -> int | None:
    more = tree.css_first(MORE)
    if more is None:
        return None
    value = more.attributes.get("data-before") or ""
    if not value.isdigit():
        raise SourceError(f"{where}: {MORE} holds {value!r}, not a post id", kind="layout")
    return int(value)


def _title(tree: LexborHTMLParser) -> str | None:
    for selector in (".tgme_channel_info_header_title", ".tgme_header_title"):
        node = tree.css_first(selector)
        if node is not None:
            return _text_or_none(node)
    return None


def _text_or_none(node: LexborNode | None) -> str | None:
    if node is None:
        return None
    text = " ".join(node.text().split())
    return text or None


def _missing(where: str, selector: str):
    raise SourceError(f"{where}: the preview layout changed, {selector} is missing;"
                      " nothing was stored from this page", kind="layout")
