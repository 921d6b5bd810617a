"""A loopback VK API (v5.199) for tests: walls, comment threads, search, Bots Long Poll.

    fake = FakeVK().start()
    fake.add_token("user-token", "user")
    fake.add_token("group-token", "community", group_id=100001)
    post = fake.post(-100001, "Нет воды на Гайдара")
    fake.comment(-100001, post["id"], "И у нас тоже")
    env = {"TSUR_VK_API_URL": fake.url, "TSUR_VK_TOKEN": "user-token"}

Methods answer POST /method/<name> with {"response": …} or {"error": {"error_code",
"error_msg", "request_params"}}; the Long Poll server is GET /lp/<group id>.
`fake.inject("wall.get", "error", 15, owner_id=-100004, times=None)` makes a wall
private; faults also apply to the calls inside `execute`. Hostile tests put raw items
beside the real ones: `fake.junk_posts[owner]` (first wall.get page),
`fake.junk_comments[(owner, post id)]` (first top-level getComments page) and
`fake.push_raw(group, event)` (any JSON as a Long Poll event).
Every item served is in the ledger: `fake.served_ids()`.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections import defaultdict

from . import Answer, Fault, LoopbackServer, json_answer

API_VERSION = "5.199"

ERROR_MESSAGES = {
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    8: "Invalid request: v (version) is required",
    9: "Flood control",
    10: "Internal server error",
    14: "Captcha needed",
    15: "Access denied",
    18: "User was deleted or banned",
    27: "Group authorization failed: method is unavailable with group auth.",
    29: "Rate limit reached",
    30: "This profile is private",
    100: "One of the parameters specified was missing or invalid",
    212: "Access to post comments denied",
}

CALL = re.compile(r"API\.([A-Za-z]+\.[A-Za-z]+)\(")


class VkError(Exception):
    def __init__(self, code: int, message: str | None = None):
        super().__init__(message or ERROR_MESSAGES.get(code, "Unknown error"))
        self.code = code


class FakeVK(LoopbackServer):
    name = "fake-vk"
    LONG_POLL_CAP = 2.0  # seconds a long poll waits at most, whatever `wait` says

    def __init__(self, now=lambda: int(time.time())):
        super().__init__()
        self.now = now
        self.tokens: dict[str, dict] = {}
        self.groups: dict[int, dict] = {}
        self.posts: dict[int, dict[int, dict]] = defaultdict(dict)  # owner -> id -> post
        self.comments: dict[int, dict[int, dict]] = defaultdict(dict)  # owner -> id -> comment
        self.next_id: dict[int, int] = defaultdict(lambda: 1000)
        self.events: dict[int, list[dict]] = defaultdict(list)  # group -> events, ts = index + 1
        self.lp_keys: dict[int, str] = {}
        self.created_comments: list[dict] = []  # wall.createComment calls
        self.rate_limits: dict[str, int] = {}  # token kind -> requests a second (empty: none)
        self.junk_posts: dict[int, list] = defaultdict(list)  # owner -> raw items served as-is
        self.junk_comments: dict[tuple[int, int], list] = defaultdict(list)  # (owner, post) -> raw
        self._recent: dict[str, list[float]] = defaultdict(list)

    @property
    def url(self) -> str:
        """What TSUR_VK_API_URL should be."""
        return f"{self.address}/method"

    # --- the world ---------------------------------------------------------------------

    def add_token(self, token: str, kind: str = "user", group_id: int | None = None) -> None:
        """kind: user | service | community (a community token belongs to `group_id`)."""
        with self.lock:
            self.tokens[token] = {"kind": kind, "group_id": group_id, "expired": False}

    def expire_token(self, token: str) -> None:
        with self.lock:
            self.tokens[token]["expired"] = True

    def add_group(self, group_id: int, name: str, screen_name: str | None = None) -> None:
        with self.lock:
            self.groups[group_id] = {"id": group_id, "name": name,
                                     "screen_name": screen_name or f"club{group_id}",
                                     "type": "page", "is_closed": 0}

    def post(self, owner_id: int, text: str, *, from_id: int | None = None,
             date: int | None = None, event: bool = True) -> dict:
        with self.lock:
            post_id = self._new_id(owner_id)
            post = {"id": post_id, "owner_id": owner_id, "from_id": from_id or owner_id,
                    "date": date or self.now(), "text": text, "post_type": "post",
                    "comments": {"count": 0, "can_post": 1}}
            self.posts[owner_id][post_id] = post
            if event:
                self._event(owner_id, "wall_post_new", dict(post))
            return post

    def comment(self, owner_id: int, post_id: int, text: str, *, reply_to: int | None = None,
                from_id: int = 700001, date: int | None = None, event: bool = True) -> dict:
        """A comment under a post; `reply_to` a comment makes it a reply in that thread."""
        with self.lock:
            comment_id = self._new_id(owner_id)
            stack = []
            if reply_to is not None:
                parent = self.comments[owner_id][reply_to]
                stack = parent["parents_stack"] + [reply_to] if not parent["parents_stack"] else [
                    parent["parents_stack"][0]]
            comment = {"id": comment_id, "from_id": from_id, "date": date or self.now(),
                       "text": text, "post_id": post_id, "owner_id": owner_id,
                       "parents_stack": stack, "deleted": False}
            if reply_to is not None:
                comment["reply_to_comment"] = reply_to
                comment["reply_to_user"] = self.comments[owner_id][reply_to]["from_id"]
            self.comments[owner_id][comment_id] = comment
            self.posts[owner_id][post_id]["comments"]["count"] += 1
            if event:
                self._event(owner_id, "wall_reply_new", self._reply_object(comment))
            return comment

    def edit_comment(self, owner_id: int, comment_id: int, text: str) -> None:
        with self.lock:
            comment = self.comments[owner_id][comment_id]
            comment["text"] = text
            self._event(owner_id, "wall_reply_edit", self._reply_object(comment))

    def delete_comment(self, owner_id: int, comment_id: int) -> None:
        with self.lock:
            comment = self.comments[owner_id][comment_id]
            comment["deleted"] = True
            self.posts[owner_id][comment["post_id"]]["comments"]["count"] -= 1
            self._event(owner_id, "wall_reply_delete", {
                "owner_id": owner_id, "id": comment_id, "deleter_id": 1,
                "post_id": comment["post_id"]})

    def restore_comment(self, owner_id: int, comment_id: int) -> None:
        with self.lock:
            comment = self.comments[owner_id][comment_id]
            comment["deleted"] = False
            self.posts[owner_id][comment["post_id"]]["comments"]["count"] += 1
            self._event(owner_id, "wall_reply_restore", self._reply_object(comment))

    def delete_post(self, owner_id: int, post_id: int) -> None:
        """The post is gone from the wall (its comments with it)."""
        with self.lock:
            self.posts[owner_id].pop(post_id)

    def pin(self, owner_id: int, post_id: int | None) -> None:
        """Pin a post (None: unpin): wall.get shows it first with is_pinned, as VK does."""
        with self.lock:
            for post in self.posts[owner_id].values():
                post.pop("is_pinned", None)
            if post_id is not None:
                self.posts[owner_id][post_id]["is_pinned"] = 1

    def close_comments(self, owner_id: int, post_id: int) -> None:
        with self.lock:
            self.posts[owner_id][post_id]["comments"]["can_post"] = 0

    def message(self, group_id: int, from_id: int, text: str) -> dict:
        """A private message to the community (message_new)."""
        with self.lock:
            message_id = self._new_id(-group_id)
            message = {"id": message_id, "date": self.now(), "peer_id": from_id,
                       "from_id": from_id, "text": text, "conversation_message_id": message_id,
                       "out": 0, "attachments": [], "fwd_messages": []}
            self._event(-group_id, "message_new", {"message": message, "client_info": {}})
            return message

    def push(self, group_id: int, event_type: str, obj: dict) -> None:
        """Any raw Long Poll event (a duplicate, an unknown type…)."""
        self.push_raw(group_id, {"type": event_type, "object": obj, "group_id": group_id,
                                 "event_id": secrets.token_hex(20), "v": API_VERSION})

    def push_raw(self, group_id: int, event) -> None:
        """Anything at all as the next Long Poll event (hostile tests)."""
        with self.changed:
            self.events[group_id].append(event)
            self.changed.notify_all()

    def rotate_long_poll_key(self, group_id: int) -> None:
        with self.lock:
            self.lp_keys[group_id] = secrets.token_hex(8)

    def served_ids(self, kind: str | None = None) -> list[tuple]:
        """Every (kind, owner, id) handed out, in order, repeats included."""
        with self.lock:
            return [item for entry in self.ledger for item in entry["served"]
                    if kind is None or item[0] == kind]

    def live_comment_ids(self, owner_id: int) -> set[int]:
        with self.lock:
            return {c["id"] for c in self.comments[owner_id].values() if not c["deleted"]}

    def _new_id(self, owner_id: int) -> int:
        self.next_id[owner_id] += 1
        return self.next_id[owner_id]

    def _reply_object(self, comment: dict) -> dict:
        obj = {k: v for k, v in comment.items() if k not in ("deleted", "owner_id")}
        obj["post_owner_id"] = comment["owner_id"]
        return obj

    def _event(self, owner_id: int, event_type: str, obj: dict) -> None:
        if owner_id < 0:
            self.push(-owner_id, event_type, obj)

    # --- HTTP ----------------------------------------------------------------------------

    def handle(self, verb, path, params, headers):
        if path.startswith("/lp/"):
            params["_group"] = path.rsplit("/", 1)[1]
        return super().handle(verb, path, params, headers)

    def method_of(self, path: str) -> str | None:
        if path.startswith("/method/"):
            return path[len("/method/"):]
        if path.startswith("/lp/"):
            return "a_check"
        return None

    def error_answer(self, method: str, params: dict, fault: Fault) -> Answer:
        if method == "a_check":
            return json_answer(self._failed(int(fault.value), params))
        return json_answer(self._error(int(fault.value), params))

    def _error(self, code: int, params: dict, message: str | None = None) -> dict:
        shown = [{"key": k, "value": v} for k, v in params.items() if k != "access_token"]
        error = {"error_code": code, "error_msg": message or ERROR_MESSAGES.get(code, "Error"),
                 "request_params": shown}
        if code == 14:
            error.update(captcha_sid="1", captcha_img=f"{self.address}/captcha.jpg")
        return {"error": error}

    def route(self, verb, path, params, headers, entry) -> Answer:
        method = self.method_of(path)
        if method == "a_check":
            return json_answer(self._long_poll(int(path.rsplit("/", 1)[1]), params, entry))
        if method is None:
            return Answer(404, b"not found", "text/plain")
        try:
            token = self._check(method, params)
            if method == "execute":
                return json_answer(self._execute(params, token, entry))
            return json_answer({"response": self._call(method, params, token, entry)})
        except VkError as error:
            return json_answer(self._error(error.code, params, str(error)))

    def _check(self, method: str, params: dict) -> dict:
        if not params.get("v"):
            raise VkError(8)
        token = self.tokens.get(params.get("access_token", ""))
        if token is None:
            raise VkError(5)
        if token["expired"]:
            raise VkError(5, "User authorization failed: access_token has expired.")
        limit = self.rate_limits.get(token["kind"])
        if limit:
            now = time.monotonic()
            recent = [t for t in self._recent[params["access_token"]] if now - t < 1.0]
            recent.append(now)
            self._recent[params["access_token"]] = recent
            if len(recent) > limit:
                raise VkError(6)
        return token

    def _execute(self, params: dict, token: dict, entry: dict) -> dict:
        code = params.get("code", "")
        results, errors = [], []
        decoder = json.JSONDecoder()
        calls = list(CALL.finditer(code))
        if len(calls) > 25:
            raise VkError(13, "Runtime error occurred during code invocation: too many API calls")
        for match in calls:
            method = match.group(1)
            args, _ = decoder.raw_decode(code, match.end())
            args = {k: str(v) for k, v in args.items()}
            fault = self.take_fault(method, args)
            try:
                if fault is not None and fault.kind == "error":
                    raise VkError(int(fault.value))
                results.append(self._call(method, args, token, entry))
            except VkError as error:
                results.append(False)
                errors.append({"method": method, "error_code": error.code, "error_msg": str(error)})
        answer = {"response": results}
        if errors:
            answer["execute_errors"] = errors
        return answer

    def _call(self, method: str, params: dict, token: dict, entry: dict):
        handler = {
            "wall.get": self._wall_get,
            "wall.getComments": self._wall_get_comments,
            "newsfeed.search": self._newsfeed_search,
            "groups.getLongPollServer": self._long_poll_server,
            "wall.createComment": self._create_comment,
            "utils.resolveScreenName": self._resolve,
            "groups.getById": self._groups_by_id,
        }.get(method)
        if handler is None:
            raise VkError(3, "Unknown method passed")
        if token["kind"] == "community" and method in ("wall.get", "newsfeed.search"):
            raise VkError(27)
        with self.lock:
            return handler(params, token, entry)

    def _owner(self, params: dict) -> int:
        if "owner_id" in params:
            return int(params["owner_id"])
        domain = params.get("domain")
        for group in self.groups.values():
            if group["screen_name"] == domain:
                return -group["id"]
        raise VkError(100)

    def _wall_get(self, params, token, entry):
        owner = self._owner(params)
        offset, count = int(params.get("offset", 0)), min(int(params.get("count", 20)), 100)
        posts = sorted(self.posts[owner].values(), key=lambda p: (not p.get("is_pinned"), -p["id"]))
        page = [dict(p, comments=dict(p["comments"])) for p in posts[offset:offset + count]]
        entry["served"].extend(("post", owner, p["id"]) for p in page)
        return {"count": len(posts), "items": page + (self.junk_posts[owner] if offset == 0 else [])}

    def _wall_get_comments(self, params, token, entry):
        owner, post_id = self._owner(params), int(params["post_id"])
        if post_id not in self.posts[owner]:
            raise VkError(100, "One of the parameters specified was missing or invalid: post_id")
        offset, count = int(params.get("offset", 0)), min(int(params.get("count", 10)), 100)
        live = sorted((c for c in self.comments[owner].values()
                       if c["post_id"] == post_id and not c["deleted"]), key=lambda c: c["id"])
        if params.get("comment_id"):
            parent = int(params["comment_id"])
            level = [c for c in live if c["parents_stack"] == [parent]]
        else:
            level = [c for c in live if not c["parents_stack"]]
        if params.get("sort") == "desc":
            level.reverse()
        thread_n = min(int(params.get("thread_items_count", 0)), 10)
        items = []
        for comment in level[offset:offset + count]:
            item = {k: v for k, v in comment.items() if k != "deleted"}
            if not comment["parents_stack"]:
                replies = [c for c in live if c["parents_stack"] == [comment["id"]]]
                item["thread"] = {"count": len(replies), "can_post": True,
                                  "items": [dict(r) for r in replies[:thread_n]]}
                for reply in item["thread"]["items"]:
                    reply.pop("deleted", None)
                    entry["served"].append(("comment", owner, reply["id"]))
            items.append(item)
            entry["served"].append(("comment", owner, comment["id"]))
        if offset == 0 and not params.get("comment_id"):
            items += self.junk_comments[(owner, post_id)]
        return {"count": len(live), "current_level_count": len(level), "can_post": True,
                "items": items}

    def _newsfeed_search(self, params, token, entry):
        # VK matches word forms; a stem (the word less its last letter) is close enough here
        words = [w[:max(3, len(w) - 1)] for w in params.get("q", "").lower().split()]
        start = int(params.get("start_time", 0))
        found = [p for posts in self.posts.values() for p in posts.values()
                 if p["date"] >= start and all(w in p["text"].lower() for w in words)]
        found.sort(key=lambda p: (-p["date"], -p["id"]))
        offset = int(params.get("start_from") or 0)
        count = min(int(params.get("count", 30)), 200)
        page = found[offset:offset + count]
        entry["served"].extend(("post", p["owner_id"], p["id"]) for p in page)
        answer = {"items": [dict(p) for p in page], "count": len(page), "total_count": len(found)}
        if offset + count < len(found):
            answer["next_from"] = str(offset + count)
        return answer

    def _long_poll_server(self, params, token, entry):
        group_id = int(params["group_id"])
        if token["kind"] != "community" or token["group_id"] != group_id:
            raise VkError(15, "Access denied: no access to call this method")
        key = self.lp_keys.setdefault(group_id, secrets.token_hex(8))
        return {"key": key, "server": f"{self.address}/lp/{group_id}",
                "ts": str(len(self.events[group_id]) + 1)}

    def _create_comment(self, params, token, entry):
        owner, post_id = self._owner(params), int(params["post_id"])
        if post_id not in self.posts[owner]:
            raise VkError(100, "One of the parameters specified was missing or invalid: "
                               "post not found")
        if not self.posts[owner][post_id]["comments"].get("can_post", 1):
            raise VkError(212)
        guid = params.get("guid")
        for earlier in self.created_comments:  # the same guid: the comment made before
            if guid and earlier.get("guid") == guid and earlier["owner_id"] == str(owner):
                known = self.comments[owner][earlier["comment_id"]]
                return {"comment_id": known["id"], "parents_stack": known["parents_stack"]}
        reply_to = int(params["reply_to_comment"]) if params.get("reply_to_comment") else None
        if reply_to is not None and (reply_to not in self.comments[owner]
                                     or self.comments[owner][reply_to]["deleted"]):
            raise VkError(100, "One of the parameters specified was missing or invalid: "
                               "reply_to_comment not found")
        group = params.get("from_group")
        # from_group: "1" (the wall's community) or, as VK documents it, the community id
        from_id = owner if group in ("1", 1) else (-int(group) if group and group != "0" else 1)
        comment = self.comment(owner, post_id, params.get("message", ""), reply_to=reply_to,
                               from_id=from_id)
        self.created_comments.append({**params, "owner_id": str(owner),
                                      "comment_id": comment["id"]})
        return {"comment_id": comment["id"], "parents_stack": comment["parents_stack"]}

    def _resolve(self, params, token, entry):
        for group in self.groups.values():
            if group["screen_name"] == params.get("screen_name"):
                return {"type": group["type"], "object_id": group["id"]}
        return []

    def _groups_by_id(self, params, token, entry):
        ids = [int(x) for x in str(params.get("group_ids") or params.get("group_id")).split(",")]
        missing = [i for i in ids if i not in self.groups]
        if missing:
            raise VkError(100, "Invalid group id")
        return {"groups": [dict(self.groups[i]) for i in ids], "profiles": []}

    # --- Bots Long Poll ------------------------------------------------------------------

    def _failed(self, code: int, params: dict) -> dict:
        group_events = len(self.events[int(params.get("_group", 0))])
        answer = {"failed": code}
        if code == 1:
            answer["ts"] = str(group_events + 1)
        return answer

    def _long_poll(self, group_id: int, params: dict, entry: dict) -> dict:
        if params.get("act") != "a_check":
            return {"failed": 4}
        with self.changed:
            if params.get("key") != self.lp_keys.get(group_id):
                return {"failed": 2}
            events = self.events[group_id]
            try:
                ts = int(params.get("ts", ""))
            except ValueError:
                return {"failed": 1, "ts": str(len(events) + 1)}
            if ts > len(events) + 1 or ts < 1:
                return {"failed": 1, "ts": str(len(events) + 1)}
            deadline = time.monotonic() + min(float(params.get("wait", 25)), self.LONG_POLL_CAP)
            while len(events) < ts and self._server is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.changed.wait(remaining)
            updates = events[ts - 1:]
            for update in updates:
                obj = update.get("object") if isinstance(update, dict) else None
                message = obj.get("message") if isinstance(obj, dict) else None
                item_id = obj.get("id") if isinstance(obj, dict) else None
                item_id = item_id or (message.get("id") if isinstance(message, dict) else None)
                if item_id is None:
                    continue  # junk (hostile tests): nothing the fake handed out
                kind = "message" if update["type"] == "message_new" else (
                    "post" if update["type"] == "wall_post_new" else "comment")
                entry["served"].append((kind, -group_id, item_id))
            return {"ts": str(len(events) + 1), "updates": updates}
