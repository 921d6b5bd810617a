"""The VK API through vk_api, pointed at TSUR_VK_API_URL, called from worker threads.

vk_api posts every call to the fixed https://api.vk.ru/method/<name> and paces calls
per VkApi instance under a lock, so there is one VkClient per token (the limit is per
token) and a requests adapter rewrites that base to the configured one. Each call
runs in a worker thread: the event loop never waits on VK.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import requests
import vk_api
from jconfig import MemoryConfig
from requests.adapters import HTTPAdapter
from vk_api.exceptions import ApiError, ApiHttpError, Captcha

from monitor.clock import SystemClock
from monitor.collectors.base import SourceError

VK_BASE = "https://api.vk.ru/method"
API_VERSION = "5.199"
EXECUTE_LIMIT = 25  # API calls one `execute` may run
TIMEOUT = 30.0  # seconds for one HTTP call (vk_api itself sets none)

# Requests a second per token kind (field notes: 3 user/service, 20 community).
RATE_LIMITS = {"user": 3.0, "service": 3.0, "community": 20.0}

# What each VK error code means for the source (issue 5).
RETRY_CODES = {6, 9, 10}  # too many requests, flood control, internal error: back off
AUTH_CODES = {5}  # token dead: mark failing and alert
ACCESS_CODES = {15, 18, 30, 212}  # no access, deleted/banned, private, comments closed
QUOTA_CODES = {29}  # daily limit: pause until it resets
BACKOFF_SECONDS = {6: 1.0, 9: 60.0, 10: 5.0, 14: 600.0}
QUOTA_RESET_ZONE = ZoneInfo("Europe/Moscow")  # VK's day

log = logging.getLogger("tsur.collect.vk")


class RebaseAdapter(HTTPAdapter):
    """Send what vk_api addresses to api.vk.ru to another base URL, with a timeout."""

    def __init__(self, base: str, timeout: float = TIMEOUT):
        super().__init__(max_retries=0)
        self.base, self.timeout = base.rstrip("/"), timeout

    def send(self, request, **kwargs):
        if request.url.startswith(VK_BASE):
            request.url = self.base + request.url[len(VK_BASE):]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


class VkClient:
    """One token, its rate limit, and calls that return results or raise SourceError."""

    def __init__(self, token: str, kind: str = "user", api_url: str = VK_BASE, *,
                 clock=None, timeout: float | None = None):
        if kind not in RATE_LIMITS:
            raise ValueError(f"token kind must be one of {sorted(RATE_LIMITS)}")
        self.kind, self.clock = kind, clock or SystemClock()
        self.session = requests.Session()
        adapter = RebaseAdapter(api_url, timeout or TIMEOUT)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        cls = vk_api.VkApiGroup if kind == "community" else vk_api.VkApi
        self.vk = cls(token=token, api_version=API_VERSION, session=self.session,
                      config=MemoryConfig)
        self.vk.RPS_DELAY = 1.0 / RATE_LIMITS[kind]
        # vk_api would sleep 0.5 s and retry code 6 forever inside the call; the runner
        # backs off instead, with the source's health recorded.
        self.vk.error_handlers.pop(6, None)

    async def call(self, method: str, **params):
        return await asyncio.to_thread(self.call_sync, method, params)

    def call_sync(self, method: str, params: dict, raw: bool = False):
        try:
            return self.vk.method(method, params, raw=raw)
        except Exception as error:  # every failure becomes a SourceError with a kind
            raise self.classify(error, method) from error

    async def many(self, calls: list[tuple[str, dict]]) -> list:
        """Run calls batched by `execute` (25 a request); each result is the method's
        response or a SourceError for that call alone."""
        return await asyncio.to_thread(self.many_sync, calls)

    def many_sync(self, calls: list[tuple[str, dict]]) -> list:
        results: list = []
        for start in range(0, len(calls), EXECUTE_LIMIT):
            chunk = calls[start:start + EXECUTE_LIMIT]
            if len(chunk) == 1:
                try:
                    results.append(self.call_sync(*chunk[0]))
                except SourceError as error:
                    results.append(_per_call(error))
                continue
            code = "return [" + ",".join(
                f"API.{method}({json.dumps(params, ensure_ascii=False)})" for method, params in chunk
            ) + "];"
            answer = self.call_sync("execute", {"code": code}, raw=True)
            response = answer.get("response") if isinstance(answer, dict) else None
            if not isinstance(response, list) or len(response) != len(chunk):
                raise SourceError("VK execute answered in an unexpected shape", "retry")
            errors = iter(answer.get("execute_errors") or [])
            for (method, _), item in zip(chunk, response, strict=True):
                if item is False:
                    info = next(errors, {"error_code": 0, "error_msg": "unknown error"})
                    results.append(_per_call(self.classify_code(
                        int(info.get("error_code") or 0),
                        f"VK {method}: [{info.get('error_code')}] {info.get('error_msg')}")))
                else:
                    results.append(item)
        return results

    # --- errors -------------------------------------------------------------------------

    def classify(self, error: Exception, method: str) -> SourceError:
        if isinstance(error, SourceError):
            return error
        if isinstance(error, Captcha):
            return SourceError(f"VK {method}: captcha needed (too many requests from this token)",
                               "retry", retry_after=BACKOFF_SECONDS[14], code=14)
        if isinstance(error, ApiError):
            return self.classify_code(error.code, f"VK {method}: {error}")
        if isinstance(error, ApiHttpError):
            status = error.response.status_code
            return SourceError(f"VK {method}: HTTP {status} from the API server", "retry",
                               code=status)
        if isinstance(error, requests.exceptions.JSONDecodeError | ValueError):
            return SourceError(f"VK {method}: the answer is not valid JSON ({error})", "retry")
        if isinstance(error, requests.RequestException):
            return SourceError(f"VK {method}: {type(error).__name__}: {error}", "retry")
        if isinstance(error, KeyError | TypeError):
            return SourceError(f"VK {method}: unexpected answer ({type(error).__name__}: {error})",
                               "retry")
        return SourceError(f"VK {method}: {type(error).__name__}: {error}", "retry")

    def classify_code(self, code: int, message: str) -> SourceError:
        if code in AUTH_CODES:
            return SourceError(message + " — renew the token", "auth", code=code)
        if code in ACCESS_CODES:
            return SourceError(message, "access", code=code)
        if code in QUOTA_CODES:
            return SourceError(message + " — daily limit, paused until it resets", "quota",
                               retry_after=self.seconds_to_quota_reset(), code=code)
        return SourceError(message, "retry", retry_after=BACKOFF_SECONDS.get(code), code=code)

    def seconds_to_quota_reset(self) -> float:
        local = self.clock.now().astimezone(QUOTA_RESET_ZONE)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0, 5),
                                    tzinfo=QUOTA_RESET_ZONE)
        return (midnight - local).total_seconds()

    def close(self) -> None:
        self.session.close()


def _per_call(error: SourceError) -> SourceError:
    """Inside a batch, only an item's own problem (no access to this post, a post gone:
    code 100) is that item's result; anything else stops the whole step."""
    if error.kind == "access" or error.code == 100:
        return error
    raise error
