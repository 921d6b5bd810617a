"""The schema: named migrations in the order they apply, each in its own transaction.

The order is written here, not derived from imports or file names. To change the
schema, add a function to the feature's schema module and append it to MIGRATIONS;
never edit or reorder one that has been applied.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from .schema_catalog import web_001_audit, web_002_linked_account_env, web_005_sessions
from .schema_collectors import collectors_001_source_health
from .schema_core import m001_initial, m002_post_versions
from .schema_directline import w012c_direct_line
from .schema_incidents import (
    w001_workflow,
    w002_spikes,
    w003_reply_publishing,
    w004_thread_and_author_indexes,
    w005_ingest_indexes,
    w006_post_problems,
    w009_saved_filters,
    w011_tiers_extensions,
    w012a_linked_answers,
    w012b_autopilot,
    w013_one_outbox,
    web_003_queue_indexes,
    web_004_incident_counts,
    web_006_deadline_order,
    web_007_routing_rules,
)
from .schema_ingest import ingest_001_stage_timings, w014_lemma_cache
from .schema_retraining import retraining_001_label_corrections, retraining_002_model_comparisons

MIGRATIONS = [
    m001_initial,
    m002_post_versions,
    collectors_001_source_health,
    retraining_001_label_corrections,
    retraining_002_model_comparisons,
    web_001_audit,
    web_002_linked_account_env,
    web_003_queue_indexes,
    web_004_incident_counts,
    web_005_sessions,
    web_006_deadline_order,
    web_007_routing_rules,
    w001_workflow,
    w002_spikes,
    w003_reply_publishing,
    w004_thread_and_author_indexes,
    w005_ingest_indexes,
    w006_post_problems,
    ingest_001_stage_timings,
    w011_tiers_extensions,
    w009_saved_filters,
    w012a_linked_answers,
    w012b_autopilot,
    w012c_direct_line,
    w013_one_outbox,
    w014_lemma_cache,
]

# Migrations applied under an older name: the record is renamed, the migration not rerun.
RENAMED = {
    "w002_reply_publishing": "w003_reply_publishing",  # two migrations shared w002
    "w003_thread_and_author_indexes": "w004_thread_and_author_indexes",
}

migrations = Migrations("tsur")
for _migration in MIGRATIONS:
    migrations()(_migration)


def rename_applied(db: Database) -> None:
    """Bring the names recorded in a database made before a rename up to date."""
    table = db[Migrations.migrations_table]
    if not table.exists():
        return
    with db.atomic():
        for old, new in RENAMED.items():
            db.execute(f"UPDATE [{table.name}] SET name = ? WHERE migration_set = ? AND name = ?",
                       [new, migrations.name, old])
