-- Tribebot schema version 3: the content calendar (cogs/content).
-- Times are UTC unix seconds. Ids of items and queues are global integers; a moderator
-- sees an item as 7 and a queue as q2. Every statement is idempotent (IF NOT EXISTS) so a
-- store that created these tables before the migration existed migrates cleanly.

CREATE TABLE IF NOT EXISTS content_items (
    id           INTEGER PRIMARY KEY,
    community_id TEXT NOT NULL,
    topic        TEXT NOT NULL,
    body         TEXT NOT NULL,
    file         TEXT,                    -- a local attachment path, where the platform allows
    channel_id   TEXT NOT NULL,
    direct       INTEGER NOT NULL DEFAULT 0, -- also DM it to the topic's subscribers
    stage        TEXT,                    -- journey stage it is aimed at (filters DMs)
    schedule     TEXT NOT NULL,           -- normal form (cogs.content.rules); 'queue' = library
    since        INTEGER NOT NULL,        -- slots at or before this are never posted
    state        TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'removed')),
    note         TEXT NOT NULL DEFAULT '', -- why it was paused
    created_by   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS content_items_by_topic ON content_items (community_id, topic);

-- A topic's rotation: at each slot the next library item of the topic is posted.
CREATE TABLE IF NOT EXISTS content_queues (
    id           INTEGER PRIMARY KEY,
    community_id TEXT NOT NULL,
    topic        TEXT NOT NULL,
    schedule     TEXT NOT NULL,
    channel_id   TEXT NOT NULL,
    since        INTEGER NOT NULL,
    state        TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'removed')),
    note         TEXT NOT NULL DEFAULT '',
    created_by   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (community_id, topic)
);

-- One row per (job, slot): claimed before sending, so a slot is posted at most once.
-- job is 'item:7' or 'queue:2'; status is claimed -> sent | failed, or skipped.
CREATE TABLE IF NOT EXISTS content_slots (
    job          TEXT NOT NULL,
    slot         INTEGER NOT NULL,
    community_id TEXT NOT NULL,
    item_id      INTEGER,
    topic        TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('claimed', 'sent', 'failed', 'skipped')),
    reason       TEXT NOT NULL DEFAULT '',
    claim        TEXT NOT NULL DEFAULT '',
    channel_id   TEXT,
    message_id   TEXT,
    direct_sent  INTEGER NOT NULL DEFAULT 0,
    recorded_at  INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (job, slot)
);
CREATE INDEX IF NOT EXISTS content_slots_by_time ON content_slots (community_id, slot);
CREATE INDEX IF NOT EXISTS content_slots_by_message ON content_slots (community_id, message_id)
    WHERE message_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS content_subscriptions (
    community_id TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    topic        TEXT NOT NULL,
    active       INTEGER NOT NULL,
    changed_at   INTEGER NOT NULL,
    PRIMARY KEY (community_id, topic, member_id)
) WITHOUT ROWID;

-- Members who stopped all direct messages from the bot.
CREATE TABLE IF NOT EXISTS content_dm_preferences (
    community_id TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    stopped      INTEGER NOT NULL,
    changed_at   INTEGER NOT NULL,
    PRIMARY KEY (community_id, member_id)
) WITHOUT ROWID;

-- Replies to a content post are counted by reply_to_id; only replies are indexed.
CREATE INDEX IF NOT EXISTS messages_by_reply_to ON messages (community_id, reply_to_id)
    WHERE reply_to_id IS NOT NULL;
