BEGIN TRANSACTION;
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
INSERT INTO "_sqlite_migrations" VALUES(1,'tsur','m001_initial','2026-12-07 18:10:42.644474+00:00');
INSERT INTO "_sqlite_migrations" VALUES(2,'tsur','m002_post_versions','2026-12-07 18:10:42.678913+00:00');
INSERT INTO "_sqlite_migrations" VALUES(3,'tsur','collectors_001_source_health','2026-12-07 18:10:42.696637+00:00');
INSERT INTO "_sqlite_migrations" VALUES(4,'tsur','retraining_001_label_corrections','2026-12-07 18:10:42.723089+00:00');
INSERT INTO "_sqlite_migrations" VALUES(5,'tsur','retraining_002_model_comparisons','2026-12-07 18:10:42.734452+00:00');
INSERT INTO "_sqlite_migrations" VALUES(6,'tsur','web_001_audit','2026-12-07 18:10:42.750974+00:00');
INSERT INTO "_sqlite_migrations" VALUES(7,'tsur','web_002_linked_account_env','2026-12-07 18:10:42.762999+00:00');
INSERT INTO "_sqlite_migrations" VALUES(8,'tsur','web_003_queue_indexes','2026-12-07 18:10:42.779024+00:00');
INSERT INTO "_sqlite_migrations" VALUES(9,'tsur','web_004_incident_counts','2026-12-07 18:10:42.790678+00:00');
INSERT INTO "_sqlite_migrations" VALUES(10,'tsur','web_005_sessions','2026-12-07 18:10:42.806744+00:00');
INSERT INTO "_sqlite_migrations" VALUES(11,'tsur','web_006_deadline_order','2026-12-07 18:10:42.818594+00:00');
INSERT INTO "_sqlite_migrations" VALUES(12,'tsur','web_007_routing_rules','2026-12-07 18:10:42.832260+00:00');
INSERT INTO "_sqlite_migrations" VALUES(13,'tsur','w001_workflow','2026-12-07 18:10:42.934788+00:00');
INSERT INTO "_sqlite_migrations" VALUES(14,'tsur','w002_spikes','2026-12-07 18:10:42.951642+00:00');
INSERT INTO "_sqlite_migrations" VALUES(15,'tsur','w002_reply_publishing','2026-12-07 18:10:42.994868+00:00');
INSERT INTO "_sqlite_migrations" VALUES(16,'tsur','w003_thread_and_author_indexes','2026-12-07 18:10:43.014498+00:00');
CREATE TABLE "audit" (
   "id" INTEGER PRIMARY KEY,
   "at" TEXT NOT NULL,
   "actor" TEXT NOT NULL,
   "action" TEXT NOT NULL,
   "target" TEXT,
   "details" TEXT
);
CREATE TABLE "callback_inbox" (
   "id" INTEGER PRIMARY KEY,
   "platform" TEXT NOT NULL,
   "group_id" INTEGER,
   "event_id" TEXT NOT NULL,
   "payload" TEXT NOT NULL,
   "received_at" TEXT NOT NULL
);
CREATE TABLE "collector_alerts" (
   "id" INTEGER PRIMARY KEY,
   "source_id" INTEGER NOT NULL REFERENCES "sources"("id"),
   "occurred_at" TEXT NOT NULL,
   "kind" TEXT NOT NULL,
   "message" TEXT NOT NULL,
   "processed_at" TEXT
);
CREATE TABLE "drafts" (
   "id" INTEGER PRIMARY KEY,
   "incident_id" INTEGER NOT NULL REFERENCES "incidents"("id"),
   "text" TEXT NOT NULL,
   "author" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "kind" TEXT,
   "moderator" TEXT,
   "comment" TEXT,
   "created_at" TEXT NOT NULL,
   "decided_at" TEXT
);
CREATE TABLE "incident_counts" (
   "organisation_id" INTEGER,
   "status" TEXT,
   "n" INTEGER NOT NULL,
   PRIMARY KEY ("organisation_id", "status")
);
CREATE TABLE "incident_events" (
   "id" INTEGER PRIMARY KEY,
   "incident_id" INTEGER NOT NULL REFERENCES "incidents"("id"),
   "occurred_at" TEXT NOT NULL,
   "actor" TEXT NOT NULL,
   "event" TEXT NOT NULL,
   "old_status" TEXT,
   "new_status" TEXT,
   "data" TEXT,
   "processed_at" TEXT
, "once_key" TEXT);
CREATE TABLE "incident_repeats" (
   "id" INTEGER PRIMARY KEY,
   "incident_id" INTEGER NOT NULL REFERENCES "incidents"("id"),
   "post_id" INTEGER NOT NULL REFERENCES "posts"("id"),
   "score" REAL,
   "linked_by" TEXT NOT NULL,
   "linked_at" TEXT NOT NULL,
   "unlinked_by" TEXT,
   "unlinked_at" TEXT
);
CREATE TABLE "incidents" (
   "id" INTEGER PRIMARY KEY,
   "post_id" INTEGER NOT NULL REFERENCES "posts"("id"),
   "status" TEXT NOT NULL,
   "kind" TEXT NOT NULL,
   "topic" TEXT NOT NULL,
   "municipality" TEXT,
   "urgency" TEXT NOT NULL,
   "organisation_id" INTEGER REFERENCES "organisations"("id"),
   "opened_at" TEXT NOT NULL,
   "first_reply_due_at" TEXT,
   "next_due_at" TEXT,
   "first_reply_at" TEXT,
   "updated_at" TEXT NOT NULL
, "assignee_id" INTEGER, "executor_at" TEXT, "assigned_at" TEXT, "draft_at" TEXT, "interim_at" TEXT, "answered_at" TEXT, "resolved_at" TEXT, "closed_at" TEXT, "info_asked_at" TEXT, "executor_due_at" TEXT, "draft_due_at" TEXT, "resolve_due_at" TEXT, "next_check_at" TEXT, "feedback_asked_at" TEXT, "feedback_at" TEXT, "feedback_solved" INTEGER, "feedback_rating" INTEGER, "repeats" INTEGER NOT NULL DEFAULT 0, "escalations" INTEGER NOT NULL DEFAULT 0, "reopened" INTEGER NOT NULL DEFAULT 0);
CREATE TABLE "label_corrections" (
   "id" INTEGER PRIMARY KEY,
   "review_id" INTEGER NOT NULL,
   "post_id" INTEGER NOT NULL REFERENCES "posts"("id"),
   "incident_id" INTEGER REFERENCES "incidents"("id"),
   "label" TEXT NOT NULL,
   "old_value" TEXT,
   "new_value" TEXT,
   "model_version" TEXT,
   "author" TEXT NOT NULL,
   "at" TEXT NOT NULL
);
CREATE TABLE "labels" (
   "id" INTEGER PRIMARY KEY,
   "post_id" INTEGER NOT NULL REFERENCES "posts"("id"),
   "model_version" TEXT NOT NULL,
   "kind" TEXT NOT NULL,
   "topic" TEXT NOT NULL,
   "municipality" TEXT,
   "urgency" TEXT NOT NULL,
   "scores" TEXT,
   "explanations" TEXT,
   "created_at" TEXT NOT NULL
);
CREATE TABLE "model_comparisons" (
   "id" INTEGER PRIMARY KEY,
   "at" TEXT NOT NULL,
   "by" TEXT,
   "candidate" TEXT NOT NULL,
   "production" TEXT NOT NULL,
   "report" TEXT NOT NULL
);
CREATE TABLE "notifications" (
   "id" INTEGER PRIMARY KEY,
   "once_key" TEXT,
   "incident_id" INTEGER REFERENCES "incidents"("id"),
   "chat_id" INTEGER NOT NULL,
   "text" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "attempts" INTEGER DEFAULT 0,
   "not_before" TEXT,
   "created_at" TEXT NOT NULL,
   "claimed_at" TEXT,
   "sent_at" TEXT,
   "error" TEXT
);
CREATE TABLE "organisations" (
   "id" INTEGER PRIMARY KEY,
   "key" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "municipality" TEXT,
   "kind" TEXT NOT NULL,
   "topics" TEXT,
   "vk_group_id" INTEGER,
   "telegram_chat_id" INTEGER
, "vk_token_env" TEXT, "telegram_token_env" TEXT);
CREATE TABLE "post_versions" (
   "id" INTEGER PRIMARY KEY,
   "post_id" INTEGER NOT NULL REFERENCES "posts"("id"),
   "text" TEXT NOT NULL,
   "raw" TEXT,
   "replaced_at" TEXT NOT NULL
);
CREATE TABLE "posts" (
   "id" INTEGER PRIMARY KEY,
   "source_id" INTEGER NOT NULL REFERENCES "sources"("id"),
   "external_id" TEXT NOT NULL,
   "channel" TEXT NOT NULL,
   "parent_external_id" TEXT,
   "author_id" TEXT,
   "author_name" TEXT,
   "text" TEXT NOT NULL,
   "url" TEXT,
   "created_at" TEXT NOT NULL,
   "collected_at" TEXT NOT NULL,
   "edited_at" TEXT,
   "deleted_at" TEXT,
   "raw" TEXT
);
CREATE TABLE "reply_outbox" (
   "id" INTEGER PRIMARY KEY,
   "incident_id" INTEGER NOT NULL REFERENCES "incidents"("id"),
   "draft_id" INTEGER REFERENCES "drafts"("id"),
   "purpose" TEXT NOT NULL,
   "mode" TEXT NOT NULL,
   "post_id" INTEGER NOT NULL REFERENCES "posts"("id"),
   "text" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "claimed_at" TEXT,
   "published_at" TEXT,
   "external_id" TEXT,
   "error" TEXT
, "guid" TEXT, "attempts" INTEGER NOT NULL DEFAULT 0, "not_before" TEXT, "failure" TEXT, "platform" TEXT, "account" TEXT, "url" TEXT);
CREATE TABLE "routing_rules" (
   "id" INTEGER PRIMARY KEY,
   "topic" TEXT,
   "municipality" TEXT,
   "organisation_key" TEXT NOT NULL,
   "created_by" TEXT NOT NULL,
   "created_at" TEXT NOT NULL
);
CREATE TABLE "sources" (
   "id" INTEGER PRIMARY KEY,
   "key" TEXT NOT NULL,
   "platform" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "role" TEXT NOT NULL,
   "municipality" TEXT,
   "organisation_id" INTEGER REFERENCES "organisations"("id"),
   "cursor" TEXT,
   "paused" INTEGER DEFAULT 0,
   "last_success_at" TEXT,
   "last_error" TEXT,
   "last_error_at" TEXT,
   "created_at" TEXT NOT NULL
, "external_id" TEXT, "options" TEXT, "status" TEXT NOT NULL DEFAULT 'ok', "error_count" INTEGER NOT NULL DEFAULT 0, "last_error_code" INTEGER, "retry_at" TEXT, "removed_at" TEXT);
CREATE TABLE "spike_members" (
   "id" INTEGER PRIMARY KEY,
   "spike_id" INTEGER NOT NULL REFERENCES "spikes"("id"),
   "post_id" INTEGER NOT NULL REFERENCES "posts"("id"),
   "score" REAL,
   "added_at" TEXT NOT NULL
);
CREATE TABLE "spikes" (
   "id" INTEGER PRIMARY KEY,
   "municipality" TEXT NOT NULL,
   "topic" TEXT NOT NULL,
   "incident_id" INTEGER NOT NULL REFERENCES "incidents"("id"),
   "first_at" TEXT NOT NULL,
   "last_at" TEXT NOT NULL,
   "messages" INTEGER NOT NULL,
   "threshold" INTEGER,
   "window_minutes" INTEGER,
   "detected_at" TEXT NOT NULL
);
CREATE TABLE "users" (
   "id" INTEGER PRIMARY KEY,
   "login" TEXT NOT NULL,
   "name" TEXT,
   "role" TEXT NOT NULL,
   "organisation_id" INTEGER REFERENCES "organisations"("id"),
   "password_hash" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "disabled" INTEGER DEFAULT 0
);
CREATE TABLE "web_sessions" (
   "id" TEXT PRIMARY KEY,
   "user_id" INTEGER NOT NULL REFERENCES "users"("id"),
   "created_at" TEXT NOT NULL,
   "revoked_at" TEXT,
   "ip" TEXT
);
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
CREATE UNIQUE INDEX "idx_organisations_key"
    ON "organisations" ("key");
CREATE UNIQUE INDEX "idx_users_login"
    ON "users" ("login");
CREATE UNIQUE INDEX "idx_sources_key"
    ON "sources" ("key");
CREATE UNIQUE INDEX "idx_posts_source_id_external_id"
    ON "posts" ("source_id", "external_id");
CREATE INDEX "idx_posts_created_at"
    ON "posts" ("created_at");
CREATE UNIQUE INDEX "idx_labels_post_id_model_version"
    ON "labels" ("post_id", "model_version");
CREATE UNIQUE INDEX "idx_incidents_post_id"
    ON "incidents" ("post_id");
CREATE INDEX "idx_incidents_status_opened_at"
    ON "incidents" ("status", "opened_at");
CREATE INDEX "idx_incidents_organisation_id_status"
    ON "incidents" ("organisation_id", "status");
CREATE INDEX "idx_incidents_next_due_at"
    ON "incidents" ("next_due_at");
CREATE INDEX "idx_incident_events_incident_id_id"
    ON "incident_events" ("incident_id", "id");
CREATE TRIGGER incident_events_no_update BEFORE UPDATE OF incident_id, occurred_at, actor, event, old_status, new_status, data ON incident_events BEGIN SELECT RAISE(ABORT, 'incident events are append-only'); END;
CREATE TRIGGER incident_events_no_delete BEFORE DELETE ON incident_events BEGIN SELECT RAISE(ABORT, 'incident events are append-only'); END;
CREATE INDEX "idx_post_versions_post_id"
    ON "post_versions" ("post_id");
CREATE INDEX "idx_collector_alerts_processed_at"
    ON "collector_alerts" ("processed_at");
CREATE UNIQUE INDEX "idx_callback_inbox_platform_event_id"
    ON "callback_inbox" ("platform", "event_id");
CREATE INDEX "idx_label_corrections_post_id_id"
    ON "label_corrections" ("post_id", "id");
CREATE INDEX "idx_label_corrections_at"
    ON "label_corrections" ("at");
CREATE INDEX "idx_label_corrections_review_id"
    ON "label_corrections" ("review_id");
CREATE TRIGGER label_corrections_no_update BEFORE UPDATE ON label_corrections BEGIN SELECT RAISE(ABORT, 'label corrections are append-only'); END;
CREATE TRIGGER label_corrections_no_delete BEFORE DELETE ON label_corrections BEGIN SELECT RAISE(ABORT, 'label corrections are append-only'); END;
CREATE INDEX "idx_audit_at"
    ON "audit" ("at");
CREATE INDEX "idx_audit_actor_id"
    ON "audit" ("actor", "id");
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE INDEX "idx_incidents_q_status"
    ON "incidents" ("status");
CREATE INDEX "idx_incidents_q_topic"
    ON "incidents" ("topic");
CREATE INDEX "idx_incidents_q_municipality"
    ON "incidents" ("municipality");
CREATE INDEX "idx_incidents_q_urgency"
    ON "incidents" ("urgency");
CREATE INDEX "idx_incidents_q_organisation_id"
    ON "incidents" ("organisation_id");
CREATE TRIGGER incident_counts_insert AFTER INSERT ON incidents BEGIN INSERT INTO incident_counts (organisation_id, status, n) VALUES (coalesce(NEW.organisation_id, 0), NEW.status, 1) ON CONFLICT (organisation_id, status) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER incident_counts_delete AFTER DELETE ON incidents BEGIN UPDATE incident_counts SET n = n - 1 WHERE organisation_id = coalesce(OLD.organisation_id, 0) AND status = OLD.status; END;
CREATE TRIGGER incident_counts_update AFTER UPDATE OF status, organisation_id ON incidents WHEN OLD.status IS NOT NEW.status OR OLD.organisation_id IS NOT NEW.organisation_id BEGIN UPDATE incident_counts SET n = n - 1 WHERE organisation_id = coalesce(OLD.organisation_id, 0) AND status = OLD.status; INSERT INTO incident_counts (organisation_id, status, n) VALUES (coalesce(NEW.organisation_id, 0), NEW.status, 1) ON CONFLICT (organisation_id, status) DO UPDATE SET n = n + 1; END;
CREATE INDEX "idx_web_sessions_user_id"
    ON "web_sessions" ("user_id");
CREATE INDEX idx_incidents_deadline_order ON incidents (COALESCE(next_due_at, '9999'), CASE urgency WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, id);
CREATE INDEX idx_incidents_org_deadline_order ON incidents (organisation_id, COALESCE(next_due_at, '9999'), CASE urgency WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, id);
CREATE INDEX "idx_incidents_next_check_at"
    ON "incidents" ("next_check_at");
CREATE UNIQUE INDEX "idx_incident_events_once_key"
    ON "incident_events" ("once_key");
CREATE TRIGGER incident_events_once_key_no_update BEFORE UPDATE OF once_key ON incident_events BEGIN SELECT RAISE(ABORT, 'incident events are append-only'); END;
CREATE INDEX "idx_drafts_incident_id_id"
    ON "drafts" ("incident_id", "id");
CREATE INDEX "idx_reply_outbox_status_id"
    ON "reply_outbox" ("status", "id");
CREATE INDEX "idx_reply_outbox_incident_id"
    ON "reply_outbox" ("incident_id");
CREATE UNIQUE INDEX "idx_notifications_once_key"
    ON "notifications" ("once_key");
CREATE INDEX "idx_notifications_status_not_before"
    ON "notifications" ("status", "not_before");
CREATE INDEX "idx_incident_repeats_incident_id"
    ON "incident_repeats" ("incident_id");
CREATE INDEX "idx_incident_repeats_post_id"
    ON "incident_repeats" ("post_id");
CREATE INDEX "idx_spikes_municipality_topic_last_at"
    ON "spikes" ("municipality", "topic", "last_at");
CREATE INDEX "idx_spikes_incident_id"
    ON "spikes" ("incident_id");
CREATE UNIQUE INDEX "idx_spike_members_post_id"
    ON "spike_members" ("post_id");
CREATE INDEX "idx_spike_members_spike_id"
    ON "spike_members" ("spike_id");
CREATE UNIQUE INDEX "idx_reply_outbox_guid"
    ON "reply_outbox" ("guid");
CREATE INDEX "idx_posts_source_id_parent_external_id"
    ON "posts" ("source_id", "parent_external_id");
CREATE INDEX "idx_posts_author_id_created_at"
    ON "posts" ("author_id", "created_at");
COMMIT;
