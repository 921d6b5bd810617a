"""A loopback Одноклассники REST API (`fb.do`) for tests: signed calls, group topics,
their comments, a comment posted as the group.

    fake = FakeOK().start()
    topic = fake.topic(GROUP, "График отключения воды")
    fake.comment(GROUP, topic["id"], "У нас на Гайдара 12 воды нет третий день")
    env = {"TSUR_OK_API_URL": fake.url, **fake.env}

Written from apiok.ru and its documentation repository: every method at
`{api_server}fb.do?method=…` by GET or POST; common parameters application_key,
format=json, sig, access_token; the signature rule (sorted `key=value` pairs without the
session, then md5(access_token + application_secret_key), md5 of the whole in lower
case) is checked and a wrong one answered with error 104; errors come with HTTP 200 as
{"error_code", "error_msg", "error_data"}; discussions.getComments takes discussionId,
discussionType (GROUP_TOPIC), anchor (or FIRST / LAST), direction, count;
discussions.addDiscussionComment takes entityId, entityType, comment,
reply_to_comment_id, as_admin. The answers' shapes follow a public client of these
methods: media_topics [{id, created_ms, author_ref "group:<id>", owner_ref, media
[{type "text", text}]}]; comments [{id, text, date «yyyy-MM-dd HH:mm:ss», author_id}]
with the authors in entities.users [{uid, name}].
Where neither said, the fake guesses, and says so:
- GUESS: topics come newest first and may carry discussion_summary {comments_count}
  (`FakeOK(summaries=False)` leaves it out); comments come oldest first with
  "anchor" and "has_more"; a deleted comment is simply absent; `date` is Moscow time.
- GUESS: addDiscussionComment answers {"id": "<comment id>"}; the group's comment comes
  back from getComments with author_type GROUP and the group's id as author_id.
- GUESS: error codes 102 (session expired), 104 (bad signature), 8 (flood), 10
  (permission denied), 300 (not found), as remembered from the OK error list.
The group Bot API: `group_message()` builds what OK pushes to a subscribed webhook
({sender {user_id}, recipient {chat_id}, message {text, seq, mid}, timestamp}, as the
documentation shows); `POST /graph/me/messages/<chat>?access_token=<group token>` with
{recipient {chat_id}, message {text}} sends into a chat.
- GUESS: it answers {"success": true, "message_id": "mid:…"}, and a token it does not
  know with error 102.
"""

from __future__ import annotations

import itertools
import json
import time
from hashlib import md5

from . import Answer, Fault, LoopbackServer, json_answer

MESSAGES = {2: "SERVICE : Service is temporary unavailable", 8: "FLOOD_BLOCKED",
            10: "PERMISSION_DENIED", 102: "PARAM_SESSION_EXPIRED : Session expired",
            104: "PARAM_SIGNATURE : Invalid signature", 300: "NOT_FOUND"}
PAGE_CAP = 100


class FakeOK(LoopbackServer):
    name = "fake-ok"

    def __init__(self, now=lambda: int(time.time()), *, summaries: bool = True):
        super().__init__()
        self.summaries = summaries
        self.application_key, self.secret_key = "CBAFAKEAPPKEY", "FAKESECRETKEY0123456789AB"
        self.access_token = "-s-fake.session-token"
        self.group_token = "tkn1fakeGroupToken:CQABPOJKAKEKEKEKE"
        self.chat_sent: list[dict] = []  # every POST graph/me/messages, as received
        self.mids = itertools.count(0x15cea67d78d2059)
        self.now = now
        self.expired = False
        self.ids = itertools.count(155_000_000_000_000)
        self.topics: dict[str, list[dict]] = {}  # group id → topics, oldest first
        self.comments: dict[str, list[dict]] = {}  # topic id → comments, oldest first
        self.posted: list[dict] = []  # every addDiscussionComment, as received
        self.closed: set[str] = set()  # topics whose comments are closed
        self.users: dict[str, str] = {}  # uid → name
        # Hostile tests: raw items served as-is beside the real ones on the first page.
        self.junk_topics: dict[str, list] = {}  # group id → raw topics
        self.junk_comments: dict[str, list] = {}  # topic id → raw comments

    @property
    def url(self) -> str:
        """What TSUR_OK_API_URL should be."""
        return self.address

    @property
    def env(self) -> dict:
        return {"TSUR_OK_APPLICATION_KEY": self.application_key,
                "TSUR_OK_APPLICATION_SECRET_KEY": self.secret_key,
                "TSUR_OK_ACCESS_TOKEN": self.access_token}

    # --- what the group and residents do -----------------------------------------------

    def topic(self, group_id: str, text: str, *, author: str = "group") -> dict:
        topic = {"id": str(next(self.ids)), "created_ms": self.now() * 1000,
                 "author_ref": f"group:{group_id}" if author == "group" else f"user:{author}",
                 "owner_ref": f"group:{group_id}",
                 "media": [{"type": "text", "text": text}], "deleted": False}
        with self.lock:
            self.topics.setdefault(str(group_id), []).append(topic)
            self.comments[topic["id"]] = []
        return topic

    def comment(self, topic_id: str, text: str, *, author_id: str = "5001",
                author_name: str = "Ольга Иванова", reply_to: str | None = None) -> dict:
        comment = {"id": str(next(self.ids)), "text": text, "author_id": author_id,
                   "date": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.now() + 3 * 3600)),
                   "deleted": False}
        self.users[author_id] = author_name
        if reply_to:
            comment["reply_to_comment_id"] = reply_to
        with self.lock:
            self.comments[topic_id].append(comment)
        return comment

    def edit(self, comment: dict, text: str) -> None:
        with self.lock:
            comment["text"] = text

    def delete(self, comment: dict) -> None:
        with self.lock:
            comment["deleted"] = True

    def group_message(self, chat: str, text: str, *, user_id: str = "user:571000009") -> dict:
        """What OK pushes to the group's webhook when a resident writes in chat `chat`."""
        return {"sender": {"user_id": user_id}, "recipient": {"chat_id": chat},
                "message": {"text": text, "seq": next(self.mids),
                            "mid": f"mid:{chat.split(':', 1)[1]}.{next(self.mids):x}"},
                "timestamp": self.now() * 1000}

    def live_ids(self, group_id: str) -> set[str]:
        """`<group>_<topic>` and `<group>_<topic>_<comment>` of everything not deleted
        (the group's own comments, our replies, excluded)."""
        with self.lock:
            ids = set()
            for topic in self.topics.get(str(group_id), []):
                if topic["deleted"]:
                    continue
                ids.add(f"{group_id}_{topic['id']}")
                ids |= {f"{group_id}_{topic['id']}_{c['id']}" for c in self.comments[topic["id"]]
                        if not c["deleted"] and not c.get("as_group")}
            return ids

    # --- HTTP -------------------------------------------------------------------------

    def method_of(self, path: str) -> str | None:
        """The method is a parameter; `handle` puts it in the path for the faults."""
        if path.startswith("/graph/me/messages/"):
            return "graph.messages"
        return path.rsplit("/", 1)[-1] or None

    def handle(self, verb, path, params, headers):
        if path.rstrip("/").endswith("fb.do"):
            path = f"/fb.do/{params.get('method', '')}"
        return super().handle(verb, path, params, headers)

    def error_answer(self, method: str, params: dict, fault: Fault) -> Answer:
        return self._error(int(fault.value))

    @staticmethod
    def _error(code: int, message: str | None = None) -> Answer:
        return json_answer({"error_code": code, "error_msg": message or MESSAGES.get(code, "ERROR"),
                            "error_data": None})

    def _signed_rightly(self, params: dict) -> bool:
        secret = md5((params.get("access_token", "") + self.secret_key).encode()).hexdigest()
        joined = "".join(f"{k}={params[k]}" for k in sorted(params)
                         if k not in ("sig", "access_token", "session_key"))
        return params.get("sig") == md5((joined + secret).encode()).hexdigest()

    def route(self, verb, path, params, headers, entry) -> Answer:
        if path.startswith("/graph/me/messages/"):
            return self._chat_message(path.rsplit("/", 1)[-1], params)
        method = params.get("method", "")
        if params.get("application_key") != self.application_key:
            return self._error(101, "PARAM_API_KEY : Application key is invalid")
        if not self._signed_rightly(params):
            return self._error(104)
        if params.get("access_token") != self.access_token or self.expired:
            return self._error(102)
        handler = {"mediatopic.getTopics": self._topics,
                   "discussions.getComments": self._comments,
                   "discussions.addDiscussionComment": self._post_comment}.get(method)
        if handler is None:
            return self._error(3, f"METHOD : Method {method} does not exist")
        with self.lock:
            return handler(params, entry)

    def _topics(self, params, entry) -> Answer:
        group = params.get("gid", "")
        if group not in self.topics:
            return self._error(300, "NOT_FOUND : group not found")
        count = min(int(params.get("count") or 20), PAGE_CAP)
        live = [t for t in reversed(self.topics[group]) if not t["deleted"]][:count]
        entry["served"] += [("topic", t["id"]) for t in live]
        return json_answer({"media_topics": [self._shown_topic(t) for t in live]
                            + self.junk_topics.get(group, []),
                            "anchor": live[-1]["id"] if live else None,
                            "has_more": len(live) == count})

    def _shown_topic(self, topic: dict) -> dict:
        shown = {k: v for k, v in topic.items() if k != "deleted"}
        if self.summaries:
            comments = [c for c in self.comments[topic["id"]] if not c["deleted"]]
            shown["discussion_summary"] = {"comments_count": len(comments)}
        return shown

    def _comments(self, params, entry) -> Answer:
        topic_id = params.get("discussionId", "")
        if params.get("discussionType") != "GROUP_TOPIC" or topic_id not in self.comments:
            return self._error(300, "NOT_FOUND : discussion not found")
        if topic_id in self.closed:
            return self._error(10, "PERMISSION_DENIED : comments are closed")
        live = [c for c in self.comments[topic_id] if not c["deleted"]]
        anchor = params.get("anchor") or "FIRST"
        start = 0 if anchor == "FIRST" else int(anchor)
        count = min(int(params.get("count") or 20), PAGE_CAP)
        page = live[start:start + count]
        entry["served"] += [("comment", c["id"]) for c in page]
        users = {c["author_id"] for c in page if c["author_id"] in self.users}
        return json_answer({
            "comments": [{k: v for k, v in c.items() if k not in ("deleted", "as_group")}
                         for c in page] + (self.junk_comments.get(topic_id, []) if start == 0
                                           else []),
            "entities": {"users": [{"uid": u, "name": self.users[u]} for u in sorted(users)]},
            "anchor": str(start + len(page)), "has_more": start + len(page) < len(live)})

    def _post_comment(self, params, entry) -> Answer:
        topic_id = params.get("entityId", "")
        if params.get("entityType") != "GROUP_TOPIC":
            return self._error(100, "PARAM : entityType")
        if topic_id not in self.comments:
            return self._error(300, "NOT_FOUND : discussion not found")
        if topic_id in self.closed:
            return self._error(10, "PERMISSION_DENIED : comments are closed")
        text = params.get("comment") or ""
        if not text:
            return self._error(100, "PARAM : comment is empty")
        self.posted.append(dict(params))
        group = next(g for g, topics in self.topics.items()
                     if any(t["id"] == topic_id for t in topics))
        comment = {"id": str(next(self.ids)), "text": text, "author_id": group,
                   "author_type": "GROUP", "deleted": False, "as_group": True,
                   "date": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.now() + 3 * 3600))}
        if params.get("reply_to_comment_id"):
            comment["reply_to_comment_id"] = params["reply_to_comment_id"]
        self.comments[topic_id].append(comment)
        return json_answer({"id": comment["id"]})

    def _chat_message(self, chat: str, params: dict) -> Answer:
        if params.get("access_token") != self.group_token or self.expired:
            return self._error(102)
        recipient = json.loads(params.get("recipient") or "{}")
        message = json.loads(params.get("message") or "{}")
        if recipient.get("chat_id") != chat or not message.get("text"):
            return self._error(100, "PARAM : recipient or message")
        with self.lock:
            self.chat_sent.append({"chat_id": chat, "text": message["text"]})
            mid = f"mid:{chat.split(':', 1)[1]}.{next(self.mids):x}"
        return json_answer({"success": True, "message_id": mid})

    def served_ids(self) -> list[tuple[str, str]]:
        with self.lock:
            return [item for entry in self.ledger for item in entry["served"]]
