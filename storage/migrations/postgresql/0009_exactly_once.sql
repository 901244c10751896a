-- Tribebot schema version 9, PostgreSQL: what the bot has announced (see SQLite's
-- 0009_exactly_once.sql).

CREATE TABLE level_announcements (
    community_id TEXT COLLATE "C" NOT NULL,
    season       BIGINT NOT NULL,
    member_id    TEXT COLLATE "C" NOT NULL,
    level        BIGINT NOT NULL,
    PRIMARY KEY (community_id, season, member_id)
);

CREATE TABLE welcome_posts (
    community_id TEXT COLLATE "C" NOT NULL,
    at           BIGINT NOT NULL,
    message_id   TEXT COLLATE "C",
    newcomers    TEXT NOT NULL           -- JSON list of the member ids it named
);
CREATE INDEX welcome_posts_by_time ON welcome_posts (community_id, at);

ALTER TABLE seen_events ADD COLUMN live BIGINT NOT NULL DEFAULT 1;
