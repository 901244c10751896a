-- Tribebot schema version 1.
-- Times are UTC unix seconds (INTEGER); `day` is the local calendar day ('YYYY-MM-DD')
-- in the community's time zone at the moment of the event. Ids are namespaced strings.
-- Rollups (daily_activity, point_totals) are maintained by triggers on the fact tables,
-- so a duplicate fact that is ignored by a unique key can never be counted twice.

CREATE TABLE communities (
    id          TEXT PRIMARY KEY,
    platform    TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    joined_at   INTEGER NOT NULL,
    left_at     INTEGER,
    season      INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE channels (
    community_id TEXT NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    channel_id   TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (community_id, channel_id)
) WITHOUT ROWID;

CREATE TABLE community_settings (
    community_id TEXT NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,          -- JSON
    PRIMARY KEY (community_id, key)
) WITHOUT ROWID;

CREATE TABLE members (
    community_id  TEXT NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    member_id     TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    is_bot        INTEGER NOT NULL DEFAULT 0,
    first_seen_at INTEGER NOT NULL,
    present       INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (community_id, member_id)
) WITHOUT ROWID;

CREATE TABLE member_events (
    community_id TEXT NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    member_id    TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('joined', 'left')),
    at           INTEGER NOT NULL,
    day          TEXT NOT NULL,
    UNIQUE (community_id, member_id, kind, at)
);
CREATE INDEX member_events_by_day ON member_events (community_id, day);

CREATE TABLE invites (
    community_id TEXT NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    member_id    TEXT NOT NULL,
    inviter_id   TEXT,
    code         TEXT NOT NULL DEFAULT '',
    at           INTEGER NOT NULL,
    UNIQUE (community_id, member_id, at)
);

CREATE TABLE messages (
    community_id       TEXT NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    message_id         TEXT NOT NULL,
    channel_id         TEXT NOT NULL,
    thread_id          TEXT,
    author_id          TEXT NOT NULL,
    author_is_bot      INTEGER NOT NULL DEFAULT 0,
    reply_to_id        TEXT,
    reply_to_author_id TEXT,
    at                 INTEGER NOT NULL,
    day                TEXT NOT NULL,
    length             INTEGER NOT NULL DEFAULT 0,
    has_media          INTEGER NOT NULL DEFAULT 0,
    text               TEXT,               -- only with [privacy] store_message_text
    edited_at          INTEGER,
    deleted_at         INTEGER,
    PRIMARY KEY (community_id, message_id)
) WITHOUT ROWID;

CREATE TABLE reactions (
    community_id   TEXT NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    message_id     TEXT NOT NULL,
    reactor_id     TEXT NOT NULL,
    emoji          TEXT NOT NULL,
    author_id      TEXT,
    reactor_is_bot INTEGER NOT NULL DEFAULT 0,
    day            TEXT NOT NULL,
    first_at       INTEGER NOT NULL,
    changed_at     INTEGER NOT NULL,
    active         INTEGER NOT NULL,
    PRIMARY KEY (community_id, message_id, reactor_id, emoji)
) WITHOUT ROWID;

-- Per member and local day: what the weekly summary and the journey read.
CREATE TABLE daily_activity (
    community_id       TEXT NOT NULL,
    day                TEXT NOT NULL,
    member_id          TEXT NOT NULL,
    messages           INTEGER NOT NULL DEFAULT 0,
    replies            INTEGER NOT NULL DEFAULT 0,
    reactions_given    INTEGER NOT NULL DEFAULT 0,
    reactions_received INTEGER NOT NULL DEFAULT 0,
    points             INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, day, member_id)
) WITHOUT ROWID;

-- The append-only points ledger; totals are derived from it.
CREATE TABLE ledger (
    id           INTEGER PRIMARY KEY,
    community_id TEXT NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    member_id    TEXT NOT NULL,
    season       INTEGER NOT NULL,
    delta        INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    ref          TEXT NOT NULL,          -- what caused it: an event key, a command id
    at           INTEGER NOT NULL,
    day          TEXT NOT NULL,
    actor_id     TEXT,                   -- the moderator, for manual changes
    note         TEXT NOT NULL DEFAULT '',
    UNIQUE (community_id, member_id, reason, ref)
);

CREATE TABLE point_totals (
    community_id TEXT NOT NULL,
    season       INTEGER NOT NULL,
    member_id    TEXT NOT NULL,
    points       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, season, member_id)
) WITHOUT ROWID;

-- Keys of handled events, so updates re-delivered after a restart stay duplicates.
CREATE TABLE seen_events (
    key TEXT NOT NULL UNIQUE,
    at  INTEGER NOT NULL
);

CREATE TRIGGER messages_rollup AFTER INSERT ON messages
WHEN NEW.author_is_bot = 0
BEGIN
    INSERT INTO daily_activity (community_id, day, member_id, messages, replies)
    VALUES (NEW.community_id, NEW.day, NEW.author_id, 1,
            NEW.reply_to_author_id IS NOT NULL AND NEW.reply_to_author_id != NEW.author_id)
    ON CONFLICT (community_id, day, member_id) DO UPDATE SET
        messages = messages + 1,
        replies = replies + excluded.replies;
END;

CREATE TRIGGER reactions_rollup AFTER INSERT ON reactions
WHEN NEW.active = 1 AND NEW.reactor_is_bot = 0
     AND (NEW.author_id IS NULL OR NEW.author_id != NEW.reactor_id)
BEGIN
    INSERT INTO daily_activity (community_id, day, member_id, reactions_given)
    VALUES (NEW.community_id, NEW.day, NEW.reactor_id, 1)
    ON CONFLICT (community_id, day, member_id) DO UPDATE SET
        reactions_given = reactions_given + 1;
    INSERT INTO daily_activity (community_id, day, member_id, reactions_received)
    SELECT NEW.community_id, NEW.day, NEW.author_id, 1 WHERE NEW.author_id IS NOT NULL
    ON CONFLICT (community_id, day, member_id) DO UPDATE SET
        reactions_received = reactions_received + 1;
END;

CREATE TRIGGER ledger_rollup AFTER INSERT ON ledger
BEGIN
    INSERT INTO point_totals (community_id, season, member_id, points)
    VALUES (NEW.community_id, NEW.season, NEW.member_id, NEW.delta)
    ON CONFLICT (community_id, season, member_id) DO UPDATE SET
        points = points + excluded.points;
    INSERT INTO daily_activity (community_id, day, member_id, points)
    VALUES (NEW.community_id, NEW.day, NEW.member_id, NEW.delta)
    ON CONFLICT (community_id, day, member_id) DO UPDATE SET
        points = points + excluded.points;
END;
