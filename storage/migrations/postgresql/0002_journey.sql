-- Tribebot schema version 2, PostgreSQL: the member journey, newcomers' first messages.

CREATE TABLE member_stages (
    community_id TEXT COLLATE "C" NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    member_id    TEXT COLLATE "C" NOT NULL,
    stage        TEXT COLLATE "C" NOT NULL
        CHECK (stage IN ('visitor', 'audience', 'participant', 'regular', 'champion')),
    since        BIGINT NOT NULL,
    drifting     BIGINT NOT NULL DEFAULT 0,
    lurker       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, member_id)
);

CREATE TABLE stage_history (
    community_id TEXT COLLATE "C" NOT NULL,
    member_id    TEXT COLLATE "C" NOT NULL,
    old_stage    TEXT COLLATE "C",
    new_stage    TEXT COLLATE "C" NOT NULL,
    at           BIGINT NOT NULL,
    day          TEXT COLLATE "C" NOT NULL,
    UNIQUE (community_id, member_id, new_stage, at)
);
CREATE INDEX stage_history_by_day ON stage_history (community_id, day);

CREATE VIEW stage_firsts AS
    SELECT community_id, member_id, new_stage AS stage, min(at) AS first_at
    FROM stage_history GROUP BY community_id, member_id, new_stage;

CREATE TABLE first_messages (
    community_id TEXT COLLATE "C" NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    member_id    TEXT COLLATE "C" NOT NULL,
    message_id   TEXT COLLATE "C" NOT NULL,
    channel_id   TEXT COLLATE "C" NOT NULL,
    at           BIGINT NOT NULL,
    day          TEXT COLLATE "C" NOT NULL,
    answered_at  BIGINT,
    answered_by  TEXT COLLATE "C",
    alerted_at   BIGINT,
    PRIMARY KEY (community_id, member_id)
);
CREATE INDEX first_messages_by_day ON first_messages (community_id, day);
