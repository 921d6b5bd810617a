"""What every operation needs, built once at the entry point and handed down."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from sqlite_utils import Database

from monitor.clock import Clock, SystemClock
from monitor.incidents.calendar import RegionCalendar
from monitor.incidents.open_problems import OpenProblems
from monitor.ingest import lemmas
from monitor.retraining.models import PipelineHolder
from monitor.settings import Settings
from monitor.store import open_db
from nlp import Pipeline


@dataclass
class Context:
    db: Database
    settings: Settings
    clock: Clock
    pipeline: object | None = None  # nlp.Pipeline, loaded only by commands that label
    db_path: Path | None = None  # None: settings.database
    models: object | None = None  # monitor.retraining.models.PipelineHolder: hot swap of model versions

    @cached_property
    def calendar(self) -> RegionCalendar:
        return RegionCalendar(self.settings.timezone)

    @cached_property
    def open_problems(self) -> OpenProblems:
        """Open incidents' problems per municipality and topic, for repeats (one per
        connection: it catches up with the store at each batch's first look-up)."""
        return OpenProblems()

    @classmethod
    def open(cls, settings: Settings, clock: Clock | None = None, db_path=None) -> Context:
        path = Path(db_path or settings.database)
        return cls(open_db(path), settings, clock or SystemClock(), db_path=path)

    def fork(self) -> Context:
        """The same context over a new connection (SQLite connections stay in their thread)."""
        return replace(self, db=open_db(self.db_path or self.settings.database, upgrade=False))

    def load_pipeline(self):

        self.pipeline = Pipeline.load(
            self.settings.models_dir, region=self.settings.region,
            regions_dir=self.settings.data_dir / "regions",
        )
        lemmas.restore(self.db, self.pipeline.morph)  # the words parsed before a restart

        self.models = PipelineHolder(self.settings.models_dir, self.pipeline)
        return self.pipeline

    def refresh_pipeline(self):
        """Before each ingest batch: pick up the versions `tsur models promote` or
        `rollback` made production (no restart; a version that fails to load is logged
        and the current one kept). Without a holder (tests, tools) nothing changes."""
        if self.models is not None:
            self.pipeline = self.models.current()
        return self.pipeline
