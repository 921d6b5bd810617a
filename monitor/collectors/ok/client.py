"""The OK REST API (`fb.do`) over httpx: signed calls, answers as JSON, errors with a kind.

OK answers errors with HTTP 200 and {"error_code", "error_msg"}. What each code means
for the source (apiok.ru error list): 102/103 the session expired or is unknown, 101 the
application key, 104 the signature (the secret key is wrong) → `auth`; 10, 200, 210
(permission denied, the session lacks a right such as GROUP_CONTENT or VALUABLE_ACCESS)
and 300 (not found) → `access`; 8 (flood) and 11 (limit reached) and 1, 2 (unknown,
service unavailable) → waited out.
"""

from __future__ import annotations

import httpx

from monitor.collectors.base import SourceError

from .signature import signed

AUTH_CODES = {101, 102, 103, 104}
ACCESS_CODES = {10, 200, 210, 300}
RETRY_AFTER = {8: 60.0, 11: 3600.0, 2: 30.0}
ENV = ("TSUR_OK_APPLICATION_KEY", "TSUR_OK_APPLICATION_SECRET_KEY", "TSUR_OK_ACCESS_TOKEN")


class OkClient:
    def __init__(self, api_url: str, application_key: str, application_secret_key: str,
                 access_token: str, *, timeout: float = 30.0):
        self.url = api_url.rstrip("/") + "/fb.do"
        self.keys = {"application_key": application_key, "access_token": access_token,
                     "application_secret_key": application_secret_key}
        self.http = httpx.AsyncClient(timeout=timeout)

    async def call(self, method: str, **params):
        data = signed(method, params, **self.keys)
        try:
            response = await self.http.post(self.url, data=data)
        except httpx.HTTPError as error:
            raise SourceError(f"OK {method}: {type(error).__name__}: {error}", "retry") from None
        if response.status_code != 200:
            raise SourceError(f"OK {method}: HTTP {response.status_code}", "retry",
                              code=response.status_code)
        try:
            answer = response.json()
        except ValueError:
            raise SourceError(f"OK {method}: the answer is not JSON", "retry") from None
        if isinstance(answer, dict) and "error_code" in answer:
            raise classify(method, answer)
        return answer

    async def close(self) -> None:
        await self.http.aclose()


def classify(method: str, answer: dict) -> SourceError:
    code = int(answer.get("error_code") or 0)
    message = f"OK {method}: [{code}] {answer.get('error_msg') or 'no message'}"
    if code in AUTH_CODES:
        return SourceError(message + " — renew TSUR_OK_ACCESS_TOKEN or check the application "
                           "keys", "auth", code=code)
    if code in ACCESS_CODES:
        return SourceError(message, "access", code=code)
    if code == 11:
        return SourceError(message, "quota", retry_after=RETRY_AFTER[11], code=code)
    return SourceError(message, "retry", retry_after=RETRY_AFTER.get(code), code=code)
