-- Tribebot schema version 6, PostgreSQL: welcomes that wait on a timer.

CREATE TABLE welcome_pending (
    community_id TEXT COLLATE "C" NOT NULL,
    member_id    TEXT COLLATE "C" NOT NULL,
    name         TEXT NOT NULL,
    joined_at    BIGINT NOT NULL,
    due          BIGINT NOT NULL,
    PRIMARY KEY (community_id, member_id)
);

CREATE TABLE welcome_deletions (
    community_id TEXT COLLATE "C" NOT NULL,
    message_id   TEXT COLLATE "C" NOT NULL,
    channel_id   TEXT COLLATE "C" NOT NULL,
    due          BIGINT NOT NULL,
    PRIMARY KEY (community_id, message_id)
);
