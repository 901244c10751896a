-- Tribebot schema version 2: the member journey, newcomers' first messages, welcome posts.

-- The journey stage of every member, recomputed from stored activity by the journey cog.
CREATE TABLE member_stages (
    community_id TEXT NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    member_id    TEXT NOT NULL,
    stage        TEXT NOT NULL
        CHECK (stage IN ('visitor', 'audience', 'participant', 'regular', 'champion')),
    since        INTEGER NOT NULL,
    drifting     INTEGER NOT NULL DEFAULT 0,
    lurker       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, member_id)
) WITHOUT ROWID;

-- When a member first reached each stage (conversion: visitor -> participant, ...), and
-- every move, so a week's moves can be counted.
CREATE TABLE stage_history (
    community_id TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    old_stage    TEXT,
    new_stage    TEXT NOT NULL,
    at           INTEGER NOT NULL,
    day          TEXT NOT NULL,
    UNIQUE (community_id, member_id, new_stage, at)
);
CREATE INDEX stage_history_by_day ON stage_history (community_id, day);

CREATE VIEW stage_firsts AS
    SELECT community_id, member_id, new_stage AS stage, min(at) AS first_at
    FROM stage_history GROUP BY community_id, member_id, new_stage;

-- A newcomer's first message and how long it took someone to answer it.
CREATE TABLE first_messages (
    community_id TEXT NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    member_id    TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    channel_id   TEXT NOT NULL,
    at           INTEGER NOT NULL,
    day          TEXT NOT NULL,
    answered_at  INTEGER,
    answered_by  TEXT,
    alerted_at   INTEGER,
    PRIMARY KEY (community_id, member_id)
) WITHOUT ROWID;
CREATE INDEX first_messages_by_day ON first_messages (community_id, day);
