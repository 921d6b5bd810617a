"""The data scientists' page: model versions with their figures, the latest comparison of
candidate and production, corrections gathered per label since the last training, and
promote / roll back (the running service swaps models before its next batch)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from monitor.catalog import audit
from monitor.context import Context
from monitor.retraining.corrections import gathered_since
from monitor.retraining.models import FIGURES, check_version, latest_comparison, learnt_until
from nlp.labels import TASKS
from nlp.registry import (
    ModelError,
    production_stack,
    promote,
    read_manifest,
    read_metrics,
    read_registry,
    rollback,
    versions,
)

from .auth import CtxDep, UserDep, check_csrf, render

router = APIRouter()
SCIENTISTS = {"data_scientist", "admin"}


def scientist(user: UserDep) -> dict:
    if user["role"] not in SCIENTISTS:
        raise HTTPException(403, "Раздел доступен аналитикам данных и администраторам")
    return user


ScientistDep = Annotated[dict, Depends(scientist)]


def _versions(models_dir, registry: dict) -> dict[str, list[dict]]:
    table = {}
    for task in TASKS:
        rows = []
        for version in reversed(versions(models_dir, task)):
            manifest = read_manifest(models_dir, task, version)
            metrics = read_metrics(models_dir, task, version)
            rows.append({
                "version": version, "created_at": manifest.get("created_at"),
                "train_messages": manifest.get("train_messages"),
                "figures": {name: m["macro_f1"] for name, m in metrics.items()
                            if isinstance(m, dict) and "macro_f1" in m},
                "production": registry.get("production", {}).get(task) == version,
                "candidate": registry.get("candidates", {}).get(task) == version,
            })
        table[task] = rows
    return table


def _page(request, ctx: Context, user, error=None, notice=None, status_code=200):
    models_dir = ctx.settings.models_dir
    try:
        registry = read_registry(models_dir)
    except ModelError as problem:
        registry, error = {}, str(problem)
    since, learnt = learnt_until(models_dir)
    return render(request, "models/index.html", status_code=status_code, user=user,
                  registry=registry, table=_versions(models_dir, registry),
                  can_rollback=bool(production_stack(registry) and production_stack(registry)[-1]),
                  comparison=latest_comparison(ctx.db), FIGURES=FIGURES,
                  gathered=gathered_since(ctx.db, since), since=since, learnt=learnt,
                  swap_error=ctx.models.last_error if ctx.models is not None else None,
                  error=error, notice=notice)


@router.get("/models")
def models_index(request: Request, ctx: CtxDep, user: ScientistDep, notice: str = ""):
    notices = {"promoted": "Кандидат стал рабочей версией; сервис подхватит её до следующей партии сообщений.",
               "rolled_back": "Возвращена прежняя рабочая версия."}
    return _page(request, ctx, user, notice=notices.get(notice))


@router.post("/models/promote", dependencies=[Depends(check_csrf)])
def models_promote(request: Request, ctx: CtxDep, user: ScientistDep):
    models_dir = ctx.settings.models_dir
    try:
        registry = read_registry(models_dir)
        wanted = dict(registry.get("candidates", {}))
        if not wanted:
            raise ModelError("нет кандидатов: сначала обучите модель (`tsur train`)")
        for task, version in wanted.items():
            check_version(models_dir, task, version)
        old = dict(registry.get("production", {}))
        new = promote(models_dir, wanted, ctx.clock.now(), by=user["login"])
    except ModelError as error:
        return _page(request, ctx, user, error=str(error), status_code=409)
    audit.record(ctx.db, user["login"], "models_promote", "models", {"from": old, "to": new},
                 ctx.clock.now())
    return RedirectResponse("/models?notice=promoted", status_code=303)


@router.post("/models/rollback", dependencies=[Depends(check_csrf)])
def models_rollback(request: Request, ctx: CtxDep, user: ScientistDep):
    models_dir = ctx.settings.models_dir
    try:
        old = dict(read_registry(models_dir).get("production", {}))
        new = rollback(models_dir, ctx.clock.now(), by=user["login"])
    except ModelError as error:
        return _page(request, ctx, user, error=str(error), status_code=409)
    audit.record(ctx.db, user["login"], "models_rollback", "models", {"from": old, "to": new},
                 ctx.clock.now())
    return RedirectResponse("/models?notice=rolled_back", status_code=303)
