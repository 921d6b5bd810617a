"""`/healthz`: can this process serve — database reachable, schema current, models there.

Status is computed when asked (nothing stored): a load balancer or systemd watchdog
reads 200 or 503 and the JSON says which part failed.
"""

from __future__ import annotations

import sqlite3

from monitor.context import Context
from monitor.store import pending_migrations
from nlp.registry import ModelError, production_versions, read_manifest


def health(ctx: Context) -> tuple[bool, dict]:
    """(healthy, report): `database`, `migrations` and `models`, each "ok" or the problem."""
    report = {"database": "ok", "migrations": "ok", "models": "ok"}
    try:
        ctx.db.execute("SELECT 1").fetchone()
        pending = pending_migrations(ctx.db)
        if pending:
            report["migrations"] = f"pending: {', '.join(pending)} (run tsur db upgrade)"
    except sqlite3.Error as error:
        report["database"] = f"unreachable: {error}"
        report["migrations"] = "unknown"
    report["models"], report["model_versions"] = _models(ctx)
    healthy = all(report[k] == "ok" for k in ("database", "migrations", "models"))
    return healthy, {"status": "ok" if healthy else "failing", **report}


def _models(ctx: Context) -> tuple[str, dict]:
    """The versions this process labels with, or (a process that does not label, like the
    web app) the production versions whose manifests are in place."""
    if ctx.pipeline is not None:
        return "ok", {"loaded": getattr(ctx.pipeline, "version", None)}
    try:
        versions = production_versions(ctx.settings.models_dir)
        for task, version in versions.items():
            read_manifest(ctx.settings.models_dir, task, version)
    except ModelError as error:
        return f"missing: {error}", {}
    if not versions:
        return "missing: no production version (tsur train --promote)", {}
    return "ok", versions
