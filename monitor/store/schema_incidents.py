"""Migrations of the incident workflow (deadlines, drafts, repeats, the outbox of replies
and notifications, the queue's indexes and counters, routing rules edited in the web UI).

Add a new function here and at the end of MIGRATIONS in monitor/store/schema.py;
never edit one that has been applied.
"""

from __future__ import annotations

from sqlite_utils import Database


def w001_workflow(db: Database) -> None:
    """Deadline inputs and stored moments, drafts, repeats, the two outboxes (made one
    table `outbox` by w013_one_outbox)."""
    incidents = db["incidents"]
    for name, kind in (
        ("assignee_id", int),  # the official picked by round-robin
        ("executor_at", str),  # first moment an organisation got it (executor target met)
        ("assigned_at", str),  # start of the current draft cycle (assign or reopen)
        ("draft_at", str),  # submission of the draft now pending or approved
        ("interim_at", str),  # interim reply approved: the resolve clock starts
        ("answered_at", str),  # final answer approved
        ("resolved_at", str),
        ("closed_at", str),
        ("info_asked_at", str),  # latest question to the author (reminder clock)
        ("executor_due_at", str),
        ("draft_due_at", str),
        ("resolve_due_at", str),
        ("next_check_at", str),  # the next moment the worker has something to do
        ("feedback_asked_at", str),
        ("feedback_at", str),
        ("feedback_solved", int),
        ("feedback_rating", int),
    ):
        incidents.add_column(name, kind)
    for counter in ("repeats", "escalations", "reopened"):
        incidents.add_column(counter, int, not_null_default=0)
    incidents.create_index(["next_check_at"])

    # One row per worker event that must happen once (warning, breach, escalation).
    db["incident_events"].add_column("once_key", str)
    db["incident_events"].create_index(["once_key"], unique=True)
    db.execute(
        "CREATE TRIGGER incident_events_once_key_no_update BEFORE UPDATE OF once_key"
        " ON incident_events BEGIN SELECT RAISE(ABORT, 'incident events are append-only'); END"
    )

    db["drafts"].create(
        {
            "id": int,
            "incident_id": int,
            "text": str,
            "author": str,  # login of the official
            "status": str,  # pending | approved | returned
            "kind": str,  # interim | final, decided by the moderator on approval
            "moderator": str,
            "comment": str,  # the moderator's reason for returning it
            "created_at": str,
            "decided_at": str,
        },
        pk="id",
        not_null={"incident_id", "text", "author", "status", "created_at"},
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db["drafts"].create_index(["incident_id", "id"])

    # Messages to residents, published by monitor.replies (VK / Telegram).
    db["reply_outbox"].create(
        {
            "id": int,
            "incident_id": int,
            "draft_id": int,
            "purpose": str,  # answer | interim | acknowledgement | info_request | info_reminder | feedback_question
            "mode": str,  # reply (under the resident's post) | dm
            "post_id": int,  # the resident's post to answer
            "text": str,
            "status": str,  # pending | sending | published | failed
            "created_at": str,
            "claimed_at": str,
            "published_at": str,
            "external_id": str,
            "error": str,
        },
        pk="id",
        not_null={"incident_id", "purpose", "mode", "post_id", "text", "status", "created_at"},
        foreign_keys=[("incident_id", "incidents", "id"), ("draft_id", "drafts", "id"),
                      ("post_id", "posts", "id")],
    )
    db["reply_outbox"].create_index(["status", "id"])
    db["reply_outbox"].create_index(["incident_id"])

    # Notifications to ЦУР moderators and supervisors through the Telegram bot.
    db["notifications"].create(
        {
            "id": int,
            "once_key": str,
            "incident_id": int,
            "chat_id": int,
            "text": str,
            "status": str,  # pending | sending | sent | failed
            "attempts": int,
            "not_before": str,
            "created_at": str,
            "claimed_at": str,
            "sent_at": str,
            "error": str,
        },
        pk="id",
        not_null={"chat_id", "text", "status", "created_at"},
        foreign_keys=[("incident_id", "incidents", "id")],
        defaults={"attempts": 0},
    )
    db["notifications"].create_index(["once_key"], unique=True)
    db["notifications"].create_index(["status", "not_before"])

    # A post that repeats an open incident: linked instead of opening a new one.
    db["incident_repeats"].create(
        {
            "id": int,
            "incident_id": int,
            "post_id": int,
            "score": float,
            "linked_by": str,
            "linked_at": str,
            "unlinked_by": str,
            "unlinked_at": str,
        },
        pk="id",
        not_null={"incident_id", "post_id", "linked_by", "linked_at"},
        foreign_keys=[("incident_id", "incidents", "id"), ("post_id", "posts", "id")],
    )
    db["incident_repeats"].create_index(["incident_id"])
    db["incident_repeats"].create_index(["post_id"])


def w002_spikes(db: Database) -> None:
    """Spike alerts: a burst of similar messages grouped under one mass incident."""
    db["spikes"].create(
        {
            "id": int,
            "municipality": str,
            "topic": str,
            "incident_id": int,  # the mass incident the members are linked to
            "first_at": str,  # publication of the first and the latest member
            "last_at": str,
            "messages": int,  # members so far
            "threshold": int,  # min_messages in force when it was detected
            "window_minutes": int,
            "detected_at": str,
        },
        pk="id",
        not_null={"municipality", "topic", "incident_id", "first_at", "last_at", "messages",
                  "detected_at"},
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db["spikes"].create_index(["municipality", "topic", "last_at"])
    db["spikes"].create_index(["incident_id"])
    db["spike_members"].create(
        {"id": int, "spike_id": int, "post_id": int, "score": float, "added_at": str},
        pk="id",
        not_null={"spike_id", "post_id", "added_at"},
        foreign_keys=[("spike_id", "spikes", "id"), ("post_id", "posts", "id")],
    )
    # A message belongs to one burst at most.
    db["spike_members"].create_index(["post_id"], unique=True)
    db["spike_members"].create_index(["spike_id"])


def w003_reply_publishing(db: Database) -> None:
    """What publishing a reply needs: an idempotency key sent to the platform (VK
    `guid`), attempts and the earliest next try for transient errors, the kind of a
    failure (token, comments closed, deleted…) and where the published reply lives.

    A new status `unknown` joins pending | sending | published | failed: the request
    went out and no answer came back, so a moderator checks before it is sent again.
    """
    outbox = db["reply_outbox"]
    outbox.add_column("guid", str)
    outbox.add_column("attempts", int, not_null_default=0)
    outbox.add_column("not_before", str)
    outbox.add_column("failure", str)  # token | access | comments_closed | deleted | rate_limited | …
    outbox.add_column("platform", str)  # vk | telegram
    outbox.add_column("account", str)  # who published it: community id or bot
    outbox.add_column("url", str)  # link to the published reply
    outbox.create_index(["guid"], unique=True)


def w004_thread_and_author_indexes(db: Database) -> None:
    """The incident page shows the thread around a post and its author's other
    messages: both are looked up by index, not by scanning a source's posts."""
    db["posts"].create_index(["source_id", "parent_external_id"], if_not_exists=True)
    db["posts"].create_index(["author_id", "created_at"], if_not_exists=True)


def w005_ingest_indexes(db: Database) -> None:
    """What ingest looks up for every post, by index whatever the store's size: the
    author's own threads of a source (a resident answering our question) and the open
    incidents of a municipality and topic, newest first (repeat candidates)."""
    db["posts"].create_index(["source_id", "author_id"], if_not_exists=True)
    db["incidents"].create_index(["municipality", "topic", "id"], if_not_exists=True)


def w006_post_problems(db: Database) -> None:
    """Each actionable post's problem for repeats and spikes (nlp.likeness: places,
    hashed lemmas and word pieces, mean word vector), read once at ingest."""
    db["post_problems"].create({"post_id": int, "problem": bytes}, pk="post_id",
                               not_null={"problem"}, foreign_keys=[("post_id", "posts", "id")])


def web_003_queue_indexes(db: Database) -> None:
    """One index per queue filter: an equality on one column walks its index in id
    order (SQLite appends the rowid), so `ORDER BY id DESC LIMIT 51` needs no sort."""
    for column in ("status", "topic", "municipality", "urgency", "organisation_id"):
        db["incidents"].create_index([column], index_name=f"idx_incidents_q_{column}",
                                     if_not_exists=True)


def web_004_incident_counts(db: Database) -> None:
    """Per-status counters of the queue, kept by triggers: counting a million incidents
    on every queue page costs ~0.3 s, reading ~150 counter rows costs nothing.

    Key: (organisation_id, status), organisation 0 = not routed yet. The triggers follow
    every INSERT, DELETE and change of status or organisation, whoever makes it. A table
    rebuild (sqlite-utils `transform`) drops triggers: re-create them after one.
    """
    db["incident_counts"].create({"organisation_id": int, "status": str, "n": int},
                                 pk=("organisation_id", "status"), not_null={"n"})
    db.execute(
        "INSERT INTO incident_counts (organisation_id, status, n) "
        "SELECT coalesce(organisation_id, 0), status, count(*) FROM incidents "
        "GROUP BY 1, 2"
    )
    add = ("INSERT INTO incident_counts (organisation_id, status, n) "
           "VALUES (coalesce(NEW.organisation_id, 0), NEW.status, 1) "
           "ON CONFLICT (organisation_id, status) DO UPDATE SET n = n + 1;")
    remove = ("UPDATE incident_counts SET n = n - 1 "
              "WHERE organisation_id = coalesce(OLD.organisation_id, 0) AND status = OLD.status;")
    db.execute(f"CREATE TRIGGER incident_counts_insert AFTER INSERT ON incidents BEGIN {add} END")
    db.execute(f"CREATE TRIGGER incident_counts_delete AFTER DELETE ON incidents BEGIN {remove} END")
    db.execute(
        "CREATE TRIGGER incident_counts_update AFTER UPDATE OF status, organisation_id ON incidents "
        "WHEN OLD.status IS NOT NEW.status OR OLD.organisation_id IS NOT NEW.organisation_id "
        f"BEGIN {remove} {add} END"
    )


def web_006_deadline_order(db: Database) -> None:
    """The queue's default order (soonest deadline, then urgency) as an index on the
    same expressions, alone and per organisation (an official's queue)."""
    order = ("COALESCE(next_due_at, '9999'), CASE urgency WHEN 'critical' THEN 0"
             " WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, id")
    db.execute(f"CREATE INDEX IF NOT EXISTS idx_incidents_deadline_order ON incidents ({order})")
    db.execute("CREATE INDEX IF NOT EXISTS idx_incidents_org_deadline_order"
               f" ON incidents (organisation_id, {order})")


def web_007_routing_rules(db: Database) -> None:
    """Routing rules edited by admins in the web UI; checked before those of tsur.toml."""
    db["routing_rules"].create(
        {"id": int, "topic": str, "municipality": str, "organisation_key": str,
         "created_by": str, "created_at": str},
        pk="id", not_null={"organisation_key", "created_by", "created_at"},
    )


def w011_tiers_extensions(db: Database) -> None:
    """Regional practice: moderators scoped to municipalities (a municipal ЦУР), the tier
    an incident is moderated at and since when, deadline extensions («перенос срока») and
    a moderator's mark of each approved answer's quality."""
    db["users"].add_column("municipalities", str)  # JSON list; empty: the whole region
    db["incidents"].add_column("tier", str)  # regional | municipal (NULL: regional)
    db["incidents"].add_column("tier_at", str)  # entered its current tier
    # Before the tiers every incident was the region's.
    db.execute("UPDATE incidents SET tier = 'regional', tier_at = opened_at")
    db["incidents"].create_index(["tier", "municipality", "status"], if_not_exists=True)
    db["extensions"].create(
        {
            "id": int,
            "incident_id": int,
            "target": str,  # draft | resolve | … (deadlines.DEADLINE_TARGETS)
            "status": str,  # pending | approved | refused | withdrawn
            "requested_by": str,
            "requested_at": str,
            "reason": str,
            "old_due": str,  # the deadline in force when asked
            "requested_due": str,
            "planned_fix": str,  # local date the fix is planned for (optional)
            "decided_by": str,
            "decided_at": str,
            "new_due": str,  # the approved deadline (the moderator may change the date)
            "comment": str,
            "repeated": int,  # approved while an earlier extension of the incident stood
        },
        pk="id",
        not_null={"incident_id", "target", "status", "requested_by", "requested_at", "reason"},
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db["extensions"].create_index(["incident_id", "id"])
    db["extensions"].create_index(["status", "requested_at"])
    drafts = db["drafts"]
    drafts.add_column("quality", str)  # good | formal | empty (monitor.incidents.quality)
    drafts.add_column("quality_by", str)
    drafts.add_column("quality_at", str)


def w009_saved_filters(db: Database) -> None:
    """A person's own named views of the queue (the query string of its filters)."""
    db["saved_filters"].create(
        {"id": int, "user_id": int, "name": str, "query": str, "created_at": str},
        pk="id", not_null={"user_id", "name", "query", "created_at"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["saved_filters"].create_index(["user_id", "name"], unique=True)


def w012a_linked_answers(db: Database) -> None:
    """One approved answer for every post linked to an incident (repeats and the
    members of a spike): each is its own reply row (`linked` = 1: under a linked post,
    not the incident's own), and a moderator may leave some posts out."""
    outbox = db["reply_outbox"]
    outbox.add_column("linked", int, not_null_default=0)
    outbox.create_index(["post_id"], if_not_exists=True)
    db["answer_exclusions"].create(
        {"id": int, "incident_id": int, "post_id": int, "excluded_by": str, "excluded_at": str},
        pk="id", not_null={"incident_id", "post_id", "excluded_by", "excluded_at"},
        foreign_keys=[("incident_id", "incidents", "id"), ("post_id", "posts", "id")],
    )
    db["answer_exclusions"].create_index(["incident_id", "post_id"], unique=True)


def w012b_autopilot(db: Database) -> None:
    """Autopilot: an incident the model is sure of goes to its executor without a
    moderator (`autopilot` = 1 marks it), under thresholds per topic (and optionally
    municipality) chosen from the moderators' history; each choice is kept, the newest
    `active`."""
    db["incidents"].add_column("autopilot", int, not_null_default=0)
    db["autopilot_thresholds"].create(
        {"id": int, "topic": str, "municipality": str, "kind_min": float, "topic_min": float,
         "municipality_min": float, "urgency_min": float, "precision": float, "support": int,
         "evidence": int, "target": float, "chosen_at": str, "chosen_by": str, "active": int},
        pk="id", not_null={"topic", "evidence", "target", "chosen_at", "chosen_by", "active"},
    )
    db["autopilot_thresholds"].create_index(["active", "topic", "municipality"])


# The one outbox (w013_one_outbox): who a row goes to, and what each audience requires.
OUTBOX_SQL = """
CREATE TABLE outbox (
   id INTEGER PRIMARY KEY,
   audience TEXT NOT NULL,      -- resident (a reply) | staff (a notification to a chat)
   incident_id INTEGER REFERENCES incidents(id),
   once_key TEXT,               -- a message queued once only (a warning, an alert)
   chat_id INTEGER,             -- staff: the moderators' or supervisor's Telegram chat
   draft_id INTEGER REFERENCES drafts(id),
   purpose TEXT,                -- resident: answer | interim | acknowledgement | info_request | …
   mode TEXT,                   -- resident: reply (under the post) | dm
   post_id INTEGER REFERENCES posts(id),  -- resident: the post answered
   linked INTEGER NOT NULL DEFAULT 0,     -- resident: under a post linked to the incident
   text TEXT NOT NULL,
   status TEXT NOT NULL,        -- resident: pending | sending | published | failed | unknown
                                --   | withdrawn; staff: pending | sending | sent | failed
   attempts INTEGER NOT NULL DEFAULT 0,
   not_before TEXT,             -- the earliest next try
   created_at TEXT NOT NULL,
   claimed_at TEXT,
   published_at TEXT,           -- resident: the platform accepted it
   sent_at TEXT,                -- staff: Telegram accepted it
   external_id TEXT,            -- resident: the reply's id on the platform
   guid TEXT,                   -- resident: idempotency key sent to the platform
   failure TEXT,                -- resident: token | access | comments_closed | deleted | …
   platform TEXT,               -- resident: vk | telegram | max | ok | ok_bot
   account TEXT,                -- resident: who published it (community, bot)
   url TEXT,                    -- resident: link to the published reply
   error TEXT,
   CHECK (audience = 'resident' AND incident_id IS NOT NULL AND purpose IS NOT NULL
          AND mode IS NOT NULL AND post_id IS NOT NULL
          OR audience = 'staff' AND chat_id IS NOT NULL)
)"""


def w013_one_outbox(db: Database) -> None:
    """One outbox for everything sent out: the replies to residents (`reply_outbox`, ids
    kept: they are in the incident page's forms) and the notifications to staff chats
    (`notifications`, renumbered after the replies, in their order) move into `outbox`,
    every row with its state; the old tables are dropped. A column of an old table with
    no place in `outbox` stops the migration rather than lose what it holds."""
    db.execute(OUTBOX_SQL)
    columns = set(db["outbox"].columns_dict)
    for table, audience, keep_id in (("reply_outbox", "resident", True),
                                     ("notifications", "staff", False)):
        moved = [c for c in db[table].columns_dict if keep_id or c != "id"]
        lost = set(moved) - columns
        if lost:
            raise RuntimeError(f"{table}: no place in outbox for {', '.join(sorted(lost))}")
        values = ", ".join("coalesce(attempts, 0)" if c == "attempts" else f"[{c}]" for c in moved)
        db.execute(f"INSERT INTO outbox (audience, {', '.join(f'[{c}]' for c in moved)})"
                   f" SELECT ?, {values} FROM [{table}] ORDER BY id", [audience])
        db[table].drop()
    outbox = db["outbox"]
    outbox.create_index(["audience", "status", "id"])
    outbox.create_index(["status", "not_before"])
    outbox.create_index(["incident_id"])
    outbox.create_index(["post_id"])
    outbox.create_index(["guid"], unique=True)
    outbox.create_index(["once_key"], unique=True)
