"""Errors as pages: a person in a browser gets a page in the site's style, in Russian,
with a way back; the webhooks and the monitoring endpoints keep short JSON answers,
which their callers read. No request gets a 500 for a malformed address: a number too
large for the database is a 404 in a path and a 400 elsewhere."""

from __future__ import annotations

import logging
from http import HTTPStatus
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from .auth import reading, render, session_user

log = logging.getLogger("tsur.web")

# Paths answered to programs, not people: platforms' webhooks, monitoring, the live stream.
MACHINE_PATHS = ("/vk/", "/telegram/", "/max/", "/ok/", "/healthz", "/metrics", "/live/")
TITLES = {
    400: "Неверный запрос", 403: "Нет доступа", 404: "Страница не найдена",
    405: "Так эту страницу не открыть", 413: "Слишком большой запрос",
    422: "Неверный запрос", 429: "Слишком много запросов", 500: "Ошибка на сервере",
}
MESSAGES = {  # for the framework's own English details («Not Found»)
    404: "Такой страницы нет. Возможно, ссылка устарела или в адресе опечатка.",
    405: "Этот адрес не принимает такой запрос. Вернитесь на страницу и повторите действие.",
    500: "Что-то пошло не так на нашей стороне. Попробуйте ещё раз; если ошибка повторится, "
         "сообщите администратору номер запроса.",
}
FIELDS = {  # parameter names as a user would say them
    "incident_id": "номер инцидента", "reply_id": "номер ответа", "post_id": "номер сообщения",
    "user_id": "номер пользователя", "org_id": "номер организации", "rule_id": "номер правила",
    "before": "страница очереди", "after": "последний показанный инцидент",
    "offset": "страница", "saved": "отметка «сохранено»", "login": "логин",
    "password": "пароль", "csrf_token": "ключ формы", "next": "адрес возврата",
}
PROBLEMS = {  # pydantic error types, said in Russian
    "missing": "не заполнено", "int_parsing": "должно быть целым числом",
    "int_type": "должно быть целым числом", "int_from_float": "должно быть целым числом",
    "float_parsing": "должно быть числом", "bool_parsing": "должно быть «да» или «нет»",
    "string_too_long": "слишком длинное", "string_too_short": "слишком короткое",
    "greater_than_equal": "слишком маленькое", "less_than_equal": "слишком большое",
    "literal_error": "нет такого варианта", "enum": "нет такого варианта",
}
SQLITE_MAX = 2**63 - 1


def for_machines(request: Request) -> bool:
    return request.url.path.startswith(MACHINE_PATHS)


def error_page(request: Request, status: int, message: str | None = None, headers=None):
    """The answer for an error: a Russian HTML page, or JSON for a program."""
    message = message or MESSAGES.get(status) or TITLES.get(status) or HTTPStatus(status).phrase
    if for_machines(request):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    user = None
    if "session" in request.scope:  # not when the session layer itself failed
        user = _viewer(request)
    response = render(request, "error.html", status_code=status, user=user,
                      title=TITLES.get(status, "Ошибка"), message=message, status=status,
                      back=_back(request), request_id=getattr(request.state, "request_id", None))
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(OverflowError, too_large_number)
    app.add_exception_handler(Exception, server_error)


async def http_error(request: Request, exc: HTTPException):
    detail = exc.detail if isinstance(exc.detail, str) else None
    if detail == HTTPStatus(exc.status_code).phrase:
        detail = None  # the framework's English default
    return error_page(request, exc.status_code, detail, getattr(exc, "headers", None))


async def validation_error(request: Request, exc: RequestValidationError):
    """A wrong value in the address is a page that does not exist (404: /incidents/abc);
    in a query or a form it is a bad request (400). Each named in Russian."""
    errors = exc.errors()
    in_path = any(e.get("loc", ("",))[0] == "path" for e in errors)
    said = "; ".join(dict.fromkeys(_say(e) for e in errors))
    if in_path:
        return error_page(request, 404, f"Такой страницы нет: {said}.")
    return error_page(request, 400, f"Проверьте запрос: {said}.")


async def too_large_number(request: Request, exc: OverflowError):
    """A number beyond SQLite's 64-bit integers reached a query: nothing can match it."""
    if any(_too_large(part) for part in request.url.path.split("/")):
        return error_page(request, 404, "Такой страницы нет: номер в адресе слишком велик.")
    return error_page(request, 400, "Проверьте запрос: число в нём слишком велико.")


async def server_error(request: Request, exc: Exception):
    log.exception("unhandled error", exc_info=exc)
    return error_page(request, 500)


def _too_large(part: str) -> bool:
    digits = part.removeprefix("-")
    return digits.isdigit() and (len(digits) > 20 or int(digits) > SQLITE_MAX)


def _say(error: dict) -> str:
    loc = error.get("loc") or ()
    name = str(loc[-1]) if len(loc) > 1 else ""
    field = FIELDS.get(name, f"поле «{name}»" if name else "запрос")
    return f"{field} — {PROBLEMS.get(error.get('type', ''), 'неверное значение')}"


def _viewer(request: Request) -> dict | None:
    try:
        with reading(request) as ctx:
            return session_user(ctx.db, request.session, ctx.clock.now())
    except Exception:  # an error page must not fail on a broken database
        return None


def _back(request: Request) -> str:
    """Where «Назад» leads: the page the user came from on this site, else the queue."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/"
    target = referer.path + (f"?{referer.query}" if referer.query else "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target or \
            target == request.url.path or target.startswith("/login"):
        return "/"
    return target
