-- Tribebot schema version 6: welcomes that wait on a timer. A burst of newcomers gathered
-- for one welcome post, and welcome posts due to be deleted, are kept here until done so
-- that a restart neither forgets a newcomer nor leaves a post up for good.

CREATE TABLE welcome_pending (
    community_id TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    joined_at    INTEGER NOT NULL,       -- keeps the newcomers in the order they came
    due          INTEGER NOT NULL,       -- when the burst's post is due (epoch seconds)
    PRIMARY KEY (community_id, member_id)
) WITHOUT ROWID;

CREATE TABLE welcome_deletions (
    community_id TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    channel_id   TEXT NOT NULL,
    due          INTEGER NOT NULL,
    PRIMARY KEY (community_id, message_id)
) WITHOUT ROWID;
