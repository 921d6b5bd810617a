"""The MAX Bot API over httpx: the token in the `Authorization` header, answers as JSON.

Every failure becomes a SourceError with a kind, so the runner records the bot's health:
401 (token refused) is `auth`, 429 and 5xx are waited out (`Retry-After` when given),
405 on GET /updates means a webhook subscription is active (long polling and a webhook
exclude each other), 403 is `access`.
"""

from __future__ import annotations

import httpx

from monitor.collectors.base import SourceError

DEFAULT_RETRY = {429: 5.0, 405: 60.0}


class MaxClient:
    def __init__(self, token: str, api_url: str, *, timeout: float = 30.0):
        self.http = httpx.AsyncClient(base_url=api_url.rstrip("/"), timeout=timeout,
                                      headers={"Authorization": token})

    async def get(self, path: str, **params) -> dict:
        """GET with query parameters (None values left out)."""
        return await self.request("GET", path, params=params)

    async def request(self, verb: str, path: str, *, params: dict | None = None,
                      json: dict | None = None) -> dict:
        params = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = await self.http.request(verb, path, params=params, json=json)
        except httpx.HTTPError as error:
            raise SourceError(f"MAX {path}: {type(error).__name__}: {error}", "retry") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200:
            raise classify(path, response, answer if isinstance(answer, dict) else {})
        if not isinstance(answer, dict):
            raise SourceError(f"MAX {path}: HTTP 200 without a JSON object "
                              f"({response.text[:100]!r})", "retry")
        return answer

    async def close(self) -> None:
        await self.http.aclose()


def classify(path: str, response: httpx.Response, answer: dict) -> SourceError:
    status = response.status_code
    message = (f"MAX {path}: HTTP {status} {answer.get('code') or ''} "
               f"{answer.get('message') or ''}").rstrip()
    if status == 401:
        return SourceError(message + " — the bot token was refused; check TSUR_MAX_BOT_TOKEN",
                           "auth", code=401)
    if status == 403:
        return SourceError(message, "access", code=403)
    if status == 405 and path == "/updates":
        return SourceError(message + " (a webhook subscription is active: long polling and "
                           "a webhook exclude each other)", "retry", retry_after=60.0, code=405)
    return SourceError(message, "retry", retry_after=retry_after(response) or
                       DEFAULT_RETRY.get(status), code=status)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a `Retry-After` header (the Bot API documents none: honoured if sent)."""
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return None
