-- Tribebot schema version 5, PostgreSQL: who posted in which local ISO week, and whether
-- they had also posted the week before ("returning"); see SQLite's 0005_member_weeks.sql.
--
-- The week logic reads rows of other weeks (was the member there the week before?), which
-- a row lock alone does not protect: two processes recording two weeks of one member at
-- once could each miss the other's row. So it runs under a transaction-level advisory
-- lock per (community, member): the second writer waits for the first to commit, and
-- every statement of the function then reads what it committed.

CREATE TABLE member_weeks (
    community_id   TEXT COLLATE "C" NOT NULL,
    week           TEXT COLLATE "C" NOT NULL,          -- the Monday of the local ISO week
    member_id      TEXT COLLATE "C" NOT NULL,
    also_last_week BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, week, member_id)
);

-- the Monday of the ISO week of a 'YYYY-MM-DD' day, `weeks` weeks later, as text
CREATE FUNCTION tribebot_monday(day TEXT, weeks INTEGER) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(date_trunc('week', day::date)::date + 7 * weeks, 'YYYY-MM-DD')
$$;

-- "This member posted on this local day": the week counts, and the week after returns.
CREATE FUNCTION tribebot_member_day(c TEXT, d TEXT, m TEXT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(c), hashtext(m));
    INSERT INTO member_weeks (community_id, week, member_id, also_last_week)
    SELECT c, tribebot_monday(d, 0), m,
           CASE WHEN EXISTS (SELECT 1 FROM member_weeks p WHERE p.community_id = c
                             AND p.week = tribebot_monday(d, -1) AND p.member_id = m)
                THEN 1 ELSE 0 END
    ON CONFLICT (community_id, week, member_id) DO NOTHING;
    UPDATE member_weeks SET also_last_week = 1
    WHERE community_id = c AND week = tribebot_monday(d, 1) AND member_id = m;
END $$;

CREATE FUNCTION tribebot_member_weeks_contribution() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tribebot_member_day(NEW.community_id, NEW.day, NEW.member_id);
    RETURN NULL;
END $$;

CREATE TRIGGER member_weeks_on_insert AFTER INSERT ON daily_activity FOR EACH ROW
WHEN (NEW.messages > 0) EXECUTE FUNCTION tribebot_member_weeks_contribution();

CREATE TRIGGER member_weeks_on_first_message AFTER UPDATE OF messages ON daily_activity
FOR EACH ROW WHEN (OLD.messages = 0 AND NEW.messages > 0)
EXECUTE FUNCTION tribebot_member_weeks_contribution();

-- existing rows (none in a new store; kept for the same meaning as SQLite's)
SELECT tribebot_member_day(community_id, day, member_id)
FROM daily_activity WHERE messages > 0;
