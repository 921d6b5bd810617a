"""/healthz and /metrics: status computed from the database when asked."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations
from test_web_admin import logged_in

from monitor.catalog.sources import record_failure
from monitor.collectors.base import SourceError
from monitor.context import Context
from monitor.demo import seed_users
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.ingest.timings import record as record_timings
from monitor.store import migrations
from monitor.store.backup import backup
from monitor.web.app import create_app


def scrape(client) -> dict[tuple, float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def web(ctx, **changes) -> TestClient:
    """The web app as `tsur serve` builds it: no pipeline in the process."""
    return TestClient(create_app(dataclasses.replace(ctx, pipeline=None, **changes),
                                 secret_key="test-secret"))


def test_healthz_is_ok_on_a_current_database_with_the_production_models(ctx):
    answer = web(ctx).get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["database"] == body["migrations"] == "ok"
    assert set(body["model_versions"]) == {"kind", "topic", "urgency"}


def test_healthz_fails_with_pending_migrations_or_missing_models(ctx, tmp_path):
    old = tmp_path / "old.db"
    first = Migrations("tsur")
    first()(migrations._migrations[0].fn)
    first.apply(Database(old))
    answer = web(ctx, db_path=old).get("/healthz")
    assert answer.status_code == 503
    assert "tsur db upgrade" in answer.json()["migrations"]

    empty = dataclasses.replace(ctx.settings, models_dir=tmp_path / "models")
    answer = web(ctx, settings=empty).get("/healthz")
    assert answer.status_code == 503 and answer.json()["models"].startswith("missing")


def test_metrics_after_a_scripted_run(ctx, clock):
    seed_users(ctx)
    now = clock.now()
    report = ingest(ctx, [
        Post("vk:-100001", "-100001_1_1", "vk_comment", "На Автозаводе третий день нет горячей воды",
             now - timedelta(minutes=30)),
        Post("vk:-100001", "-100001_1_2", "vk_comment", "Спасибо за концерт в парке, было здорово",
             now - timedelta(minutes=20)),
        Post("vk:-100003", "-100003_2_1", "vk_comment", "В подъезде на Гайдара 12 пахнет газом!",
             now - timedelta(minutes=10)),
    ], cursor=("vk:-100001", {"offset": 2}))
    record_timings(ctx.db, report)  # as the collector does after each batch
    incidents = ctx.db.execute("SELECT count(*) FROM incidents").fetchone()[0]
    assert incidents >= 2
    record_failure(ctx.db, "vk:-100003", now, SourceError("VK error 5: token", "auth", code=5),
                   None)
    client = web(ctx)
    metrics = scrape(client)

    def value(name, **labels):
        return metrics[(name, tuple(sorted(labels.items())))]

    assert value("tsur_messages_collected_total", source="vk:-100001", platform="vk") == 2
    assert value("tsur_messages_collected_total", source="vk:-100003", platform="vk") == 1
    assert value("tsur_incidents", status="new") == incidents
    assert value("tsur_incidents", status="closed") == 0
    assert value("tsur_incidents_overdue") == 0
    assert value("tsur_source_up", source="vk:-100001", status="ok") == 1
    assert value("tsur_source_up", source="vk:-100003", status="failing") == 0
    assert value("tsur_source_errors", source="vk:-100003") == 1
    assert value("tsur_collector_failures_total", source="vk:-100003", kind="auth") == 1
    assert value("tsur_source_lag_seconds", source="vk:-100001") == 20 * 60
    assert value("tsur_backup_age_seconds") == float("inf")
    assert value("tsur_migrations_pending") == 0
    assert value("tsur_ingest_stage_seconds_count", stage="label") == 1
    assert 0 < value("tsur_ingest_stage_seconds_sum", stage="label") <= value(
        "tsur_ingest_stage_seconds_sum", stage="total")
    assert value("tsur_ingest_stage_seconds_bucket", stage="label", le="+Inf") == 1
    assert value("tsur_ingest_messages_total", stage="label") == 3

    clock.advance(timedelta(days=2))  # every first-reply deadline has passed
    backup(ctx.settings.database, ctx.settings.backup_dir, clock.now() - timedelta(hours=2))
    metrics = scrape(client)
    assert value("tsur_incidents_overdue") == incidents
    assert value("tsur_backup_age_seconds") == 2 * 3600
    assert value("tsur_backup_size_bytes") > 0


@pytest.mark.parametrize("page", ["/healthz", "/metrics"])
def test_health_and_metrics_need_no_login(ctx, page):
    assert web(ctx).get(page, follow_redirects=False).status_code == 200


def test_admin_sources_page_warns_when_no_backup_succeeded_in_a_day(ctx, clock):
    seed_users(ctx)
    app = create_app(ctx, secret_key="test-secret")
    admin = logged_in(app, "admin", "admin-demo-1")
    assert "резервной копии базы" in admin.get("/admin/sources").text
    backup(ctx.settings.database, ctx.settings.backup_dir, clock.now())
    assert "резервной копии базы" not in admin.get("/admin/sources").text
    assert isinstance(ctx, Context)
