"""Shared fixtures: heavy NLP objects once per session, a fresh database per test."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from monitor.catalog import users
from monitor.catalog.organisations import sync_from_settings
from monitor.clock import FrozenClock
from monitor.context import Context
from monitor.demo import DEMO_CONFIG
from monitor.settings import load_settings
from monitor.store import open_db
from nlp import Pipeline

# A Monday morning in Нижний Новгород (07:00 UTC = 10:00 MSK).
MONDAY_MORNING = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes():
    """argon2id with 1 MiB instead of 64 MiB in tests: hundreds of tests create users and
    log in, and at full cost the hashing alone took about a minute of the suite. The
    algorithm and the code paths stay the same; the service's cost is tested apart."""
    full = users._hasher
    users._hasher = PasswordHasher(memory_cost=1024, time_cost=1, parallelism=1)
    yield full
    users._hasher = full


@pytest.fixture(scope="session")
def pipeline() -> Pipeline:
    settings = load_settings(DEMO_CONFIG)
    return Pipeline.load(settings.models_dir, region="52", regions_dir=settings.data_dir / "regions")


@pytest.fixture
def settings(tmp_path):
    return load_settings(DEMO_CONFIG, environ={"TSUR_DB": str(tmp_path / "tsur.db")})


@pytest.fixture
def clock():
    return FrozenClock(MONDAY_MORNING)


@pytest.fixture
def ctx(settings, clock, pipeline):
    """A context over a fresh on-disk database with the demo organisations and sources."""
    db = open_db(settings.database)
    sync_from_settings(db, settings, clock.now())
    context = Context(db, settings, clock, pipeline)
    yield context
    db.close()


@pytest.fixture
def runner():
    return CliRunner()
