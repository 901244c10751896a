-- Tribebot schema version 7: farming is not contribution, and what the weekly report reads.
--
-- A message the engagement rules refused as farming (too short, a near-duplicate, in an
-- excluded channel) is a fact of its own in `farmed_messages`; the daily rollup counts
-- them (`daily_activity.farmed`), and a member-day counts as contribution only while it
-- has more messages than farmed ones. `member_weeks` now holds the weeks with at least
-- one such day, so a member whose only messages of a week were farmed did not
-- contribute that week — for the journey and for the weekly summary alike. Either order
-- of arrival (the message or its farming verdict first) gives the same rows.

ALTER TABLE daily_activity ADD COLUMN farmed INTEGER NOT NULL DEFAULT 0;

CREATE TABLE farmed_messages (
    community_id TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    reason       TEXT NOT NULL,          -- 'too short', 'duplicate', 'excluded channel'
    at           INTEGER NOT NULL,
    day          TEXT NOT NULL,
    PRIMARY KEY (community_id, message_id)
) WITHOUT ROWID;

CREATE TRIGGER farmed_rollup AFTER INSERT ON farmed_messages
BEGIN
    INSERT INTO daily_activity (community_id, day, member_id, farmed)
    VALUES (NEW.community_id, NEW.day, NEW.member_id, 1)
    ON CONFLICT (community_id, day, member_id) DO UPDATE SET farmed = farmed + 1;
END;

DROP TRIGGER member_weeks_on_insert;
DROP TRIGGER member_weeks_on_first_message;

CREATE TRIGGER member_weeks_on_insert AFTER INSERT ON daily_activity
WHEN NEW.messages > NEW.farmed
BEGIN
    INSERT INTO member_day_contributions VALUES (NEW.community_id, NEW.day, NEW.member_id);
END;

CREATE TRIGGER member_weeks_on_contribution AFTER UPDATE OF messages, farmed ON daily_activity
WHEN OLD.messages <= OLD.farmed AND NEW.messages > NEW.farmed
BEGIN
    INSERT INTO member_day_contributions VALUES (NEW.community_id, NEW.day, NEW.member_id);
END;

-- The day stopped counting (its messages turned out to be farmed): the week goes unless
-- another of its days counts (seven key lookups), and the week after stops "returning".
CREATE TRIGGER member_weeks_on_farmed AFTER UPDATE OF messages, farmed ON daily_activity
WHEN OLD.messages > OLD.farmed AND NEW.messages <= NEW.farmed
BEGIN
    DELETE FROM member_weeks
    WHERE community_id = NEW.community_id AND member_id = NEW.member_id
      AND week = date(NEW.day, '-6 days', 'weekday 1')
      AND NOT EXISTS (
          SELECT 1 FROM daily_activity d
          WHERE d.community_id = NEW.community_id AND d.member_id = NEW.member_id
            AND d.day IN (week, date(week, '+1 days'), date(week, '+2 days'),
                          date(week, '+3 days'), date(week, '+4 days'),
                          date(week, '+5 days'), date(week, '+6 days'))
            AND d.messages > d.farmed);
    UPDATE member_weeks SET also_last_week = 0
    WHERE community_id = NEW.community_id AND member_id = NEW.member_id
      AND week = date(NEW.day, '+1 days', 'weekday 1')
      AND NOT EXISTS (
          SELECT 1 FROM member_weeks p
          WHERE p.community_id = NEW.community_id AND p.member_id = NEW.member_id
            AND p.week = date(NEW.day, '-6 days', 'weekday 1'));
END;

-- One member's weeks in order: the weekly report's journey pass reads this instead of
-- scanning the day-first rollup.
CREATE INDEX member_weeks_by_member ON member_weeks (community_id, member_id, week);

-- Who the journey ever made a regular or champion, and when (a small part of the moves):
-- "drifting" needs it for weeks older than the report looks at.
CREATE INDEX stage_history_fans ON stage_history (community_id, at, member_id)
    WHERE new_stage IN ('regular', 'champion');

-- The ledger rows that make a champion (a small part of the ledger), by day.
CREATE INDEX ledger_journey_signals ON ledger (community_id, reason, day, member_id)
    WHERE reason IN ('helpful_answer', 'welcomed_newcomer', 'referral');
