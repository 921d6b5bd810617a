"""The signature every OK REST call carries (apiok.ru, «Расчёт подписи запроса»).

In a session the secret is md5(access_token + application_secret_key) in lower case;
the parameters without the session (`access_token`, `session_key`) are sorted by key,
joined as `key=value` with nothing between them, the secret appended, and the md5 of
that, in lower case, is `sig`. Values are the UTF-8 text sent, before URL encoding.
"""

from __future__ import annotations

from hashlib import md5

UNSIGNED = {"access_token", "session_key", "sig"}


def session_secret(access_token: str, application_secret_key: str) -> str:
    return md5((access_token + application_secret_key).encode("utf-8")).hexdigest().lower()


def signature(params: dict, secret: str) -> str:
    joined = "".join(f"{key}={params[key]}" for key in sorted(params) if key not in UNSIGNED)
    return md5((joined + secret).encode("utf-8")).hexdigest().lower()


def signed(method: str, params: dict, *, application_key: str, access_token: str,
           application_secret_key: str) -> dict:
    """The whole parameter set of one call: the method's own, the application's, `sig`
    and the session."""
    full = {k: str(v) for k, v in params.items() if v is not None}
    full.update(application_key=application_key, format="json", method=method)
    full["sig"] = signature(full, session_secret(access_token, application_secret_key))
    full["access_token"] = access_token
    return full
