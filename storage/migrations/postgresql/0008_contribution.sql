-- Tribebot schema version 8, PostgreSQL: farming is not contribution (see SQLite's
-- 0008_contribution.sql). The week logic runs under the same advisory lock as in 0005.

ALTER TABLE daily_activity ADD COLUMN farmed BIGINT NOT NULL DEFAULT 0;

CREATE TABLE farmed_messages (
    community_id TEXT COLLATE "C" NOT NULL,
    message_id   TEXT COLLATE "C" NOT NULL,
    member_id    TEXT COLLATE "C" NOT NULL,
    reason       TEXT NOT NULL,
    at           BIGINT NOT NULL,
    day          TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (community_id, message_id)
);

CREATE FUNCTION tribebot_farmed_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO daily_activity AS d (community_id, day, member_id, farmed)
    SELECT community_id, day, member_id, count(*) FROM inserted
    GROUP BY community_id, day, member_id ORDER BY community_id, day, member_id
    ON CONFLICT (community_id, day, member_id) DO UPDATE SET
        farmed = d.farmed + EXCLUDED.farmed;
    RETURN NULL;
END $$;
CREATE TRIGGER farmed_rollup AFTER INSERT ON farmed_messages REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION tribebot_farmed_rollup();

DROP TRIGGER member_weeks_on_insert ON daily_activity;
DROP TRIGGER member_weeks_on_first_message ON daily_activity;

CREATE TRIGGER member_weeks_on_insert AFTER INSERT ON daily_activity FOR EACH ROW
WHEN (NEW.messages > NEW.farmed) EXECUTE FUNCTION tribebot_member_weeks_contribution();

CREATE TRIGGER member_weeks_on_contribution AFTER UPDATE OF messages, farmed
ON daily_activity FOR EACH ROW
WHEN (OLD.messages <= OLD.farmed AND NEW.messages > NEW.farmed)
EXECUTE FUNCTION tribebot_member_weeks_contribution();

-- The day stopped counting: the week goes unless another of its days counts, and the
-- week after stops "returning" unless this week still counts.
CREATE FUNCTION tribebot_member_weeks_farmed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    monday TEXT := tribebot_monday(NEW.day, 0);
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(NEW.community_id), hashtext(NEW.member_id));
    DELETE FROM member_weeks
    WHERE community_id = NEW.community_id AND member_id = NEW.member_id AND week = monday
      AND NOT EXISTS (
          SELECT 1 FROM daily_activity d
          WHERE d.community_id = NEW.community_id AND d.member_id = NEW.member_id
            AND d.day IN (SELECT to_char(monday::date + n, 'YYYY-MM-DD')
                          FROM generate_series(0, 6) AS n)
            AND d.messages > d.farmed);
    UPDATE member_weeks SET also_last_week = 0
    WHERE community_id = NEW.community_id AND member_id = NEW.member_id
      AND week = tribebot_monday(NEW.day, 1)
      AND NOT EXISTS (
          SELECT 1 FROM member_weeks p
          WHERE p.community_id = NEW.community_id AND p.member_id = NEW.member_id
            AND p.week = monday);
    RETURN NULL;
END $$;
CREATE TRIGGER member_weeks_on_farmed AFTER UPDATE OF messages, farmed ON daily_activity
FOR EACH ROW WHEN (OLD.messages > OLD.farmed AND NEW.messages <= NEW.farmed)
EXECUTE FUNCTION tribebot_member_weeks_farmed();

CREATE INDEX member_weeks_by_member ON member_weeks (community_id, member_id, week);

CREATE INDEX stage_history_fans ON stage_history (community_id, at, member_id)
    WHERE new_stage IN ('regular', 'champion');

CREATE INDEX ledger_journey_signals ON ledger (community_id, reason, day, member_id)
    WHERE reason IN ('helpful_answer', 'welcomed_newcomer', 'referral');
