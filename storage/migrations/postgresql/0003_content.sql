-- Tribebot schema version 3, PostgreSQL: the content calendar (cogs/content). Item and
-- queue ids are chosen by the bot (the highest so far + 1), as on SQLite.

CREATE TABLE content_items (
    id           BIGINT PRIMARY KEY,
    community_id TEXT COLLATE "C" NOT NULL,
    topic        TEXT COLLATE "C" NOT NULL,
    body         TEXT NOT NULL,
    file         TEXT,
    channel_id   TEXT COLLATE "C" NOT NULL,
    direct       BIGINT NOT NULL DEFAULT 0,
    stage        TEXT COLLATE "C",
    schedule     TEXT NOT NULL,
    since        BIGINT NOT NULL,
    state        TEXT COLLATE "C" NOT NULL DEFAULT 'active'
        CHECK (state IN ('active', 'paused', 'removed')),
    note         TEXT NOT NULL DEFAULT '',
    created_by   TEXT COLLATE "C",
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX content_items_by_topic ON content_items (community_id, topic);

CREATE TABLE content_queues (
    id           BIGINT PRIMARY KEY,
    community_id TEXT COLLATE "C" NOT NULL,
    topic        TEXT COLLATE "C" NOT NULL,
    schedule     TEXT NOT NULL,
    channel_id   TEXT COLLATE "C" NOT NULL,
    since        BIGINT NOT NULL,
    state        TEXT COLLATE "C" NOT NULL DEFAULT 'active'
        CHECK (state IN ('active', 'paused', 'removed')),
    note         TEXT NOT NULL DEFAULT '',
    created_by   TEXT COLLATE "C",
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (community_id, topic)
);

CREATE TABLE content_slots (
    job          TEXT COLLATE "C" NOT NULL,
    slot         BIGINT NOT NULL,
    community_id TEXT COLLATE "C" NOT NULL,
    item_id      BIGINT,
    topic        TEXT COLLATE "C" NOT NULL,
    status       TEXT COLLATE "C" NOT NULL
        CHECK (status IN ('claimed', 'sent', 'failed', 'skipped')),
    reason       TEXT NOT NULL DEFAULT '',
    claim        TEXT COLLATE "C" NOT NULL DEFAULT '',
    channel_id   TEXT COLLATE "C",
    message_id   TEXT COLLATE "C",
    direct_sent  BIGINT NOT NULL DEFAULT 0,
    recorded_at  BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (job, slot)
);
CREATE INDEX content_slots_by_time ON content_slots (community_id, slot);
CREATE INDEX content_slots_by_message ON content_slots (community_id, message_id)
    WHERE message_id IS NOT NULL;

CREATE TABLE content_subscriptions (
    community_id TEXT COLLATE "C" NOT NULL,
    member_id    TEXT COLLATE "C" NOT NULL,
    topic        TEXT COLLATE "C" NOT NULL,
    active       BIGINT NOT NULL,
    changed_at   BIGINT NOT NULL,
    PRIMARY KEY (community_id, topic, member_id)
);

CREATE TABLE content_dm_preferences (
    community_id TEXT COLLATE "C" NOT NULL,
    member_id    TEXT COLLATE "C" NOT NULL,
    stopped      BIGINT NOT NULL,
    changed_at   BIGINT NOT NULL,
    PRIMARY KEY (community_id, member_id)
);

CREATE INDEX messages_by_reply_to ON messages (community_id, reply_to_id)
    WHERE reply_to_id IS NOT NULL;
