-- Tribebot schema version 5: who posted in which local ISO week, and whether they had also
-- posted the week before ("returning"). Maintained once per member-day (not per message)
-- by triggers on the daily rollup, in either order of arrival, so the weekly summary
-- counts active and returning members with index range counts instead of scanning days.

CREATE TABLE member_weeks (
    community_id   TEXT NOT NULL,
    week           TEXT NOT NULL,          -- the Monday of the local ISO week
    member_id      TEXT NOT NULL,
    also_last_week INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, week, member_id)
) WITHOUT ROWID;

-- "This member posted on this local day": inserting a row here runs the logic once,
-- whoever calls it (the two rollup triggers below, and the back-fill at the end).
CREATE VIEW member_day_contributions AS
    SELECT community_id, day, member_id FROM daily_activity WHERE 0;

CREATE TRIGGER member_day_contribution INSTEAD OF INSERT ON member_day_contributions
BEGIN
    -- NOT EXISTS, not OR IGNORE: inside a trigger fired by an upsert's UPDATE, SQLite
    -- applies the outer statement's conflict policy (ABORT) instead of OR IGNORE
    INSERT INTO member_weeks (community_id, week, member_id, also_last_week)
    SELECT NEW.community_id, date(NEW.day, '-6 days', 'weekday 1'), NEW.member_id,
           EXISTS (SELECT 1 FROM member_weeks p WHERE p.community_id = NEW.community_id
                   AND p.week = date(NEW.day, '-13 days', 'weekday 1')
                   AND p.member_id = NEW.member_id)
    WHERE NOT EXISTS (SELECT 1 FROM member_weeks w WHERE w.community_id = NEW.community_id
                      AND w.week = date(NEW.day, '-6 days', 'weekday 1')
                      AND w.member_id = NEW.member_id);
    -- a later week that arrived first learns that this member was active the week before
    UPDATE member_weeks SET also_last_week = 1
    WHERE community_id = NEW.community_id AND week = date(NEW.day, '+1 days', 'weekday 1')
      AND member_id = NEW.member_id;
END;

CREATE TRIGGER member_weeks_on_insert AFTER INSERT ON daily_activity
WHEN NEW.messages > 0
BEGIN
    INSERT INTO member_day_contributions VALUES (NEW.community_id, NEW.day, NEW.member_id);
END;

CREATE TRIGGER member_weeks_on_first_message AFTER UPDATE OF messages ON daily_activity
WHEN OLD.messages = 0 AND NEW.messages > 0
BEGIN
    INSERT INTO member_day_contributions VALUES (NEW.community_id, NEW.day, NEW.member_id);
END;

-- existing databases: fill the table from the rollup already there
INSERT INTO member_day_contributions
    SELECT community_id, day, member_id FROM daily_activity WHERE messages > 0;
