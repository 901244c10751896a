-- Issue 14: nothing stored may lead back to a forgotten member or to a file of the host.
--
-- 1. Members forgotten before this version were given 'forgotten:' + an unsalted sha256 of
--    "community|member", which anyone can recompute from a member id. Each such id gets a
--    random one (the same everywhere it appears); the old -> new mapping is not kept.
CREATE TEMP TABLE forgotten_ids AS
    SELECT community_id, old, 'forgotten:' || lower(hex(randomblob(16))) AS new FROM (
        SELECT community_id, member_id AS old FROM ledger WHERE member_id LIKE 'forgotten:%'
        UNION SELECT community_id, actor_id FROM ledger WHERE actor_id LIKE 'forgotten:%'
        UNION SELECT community_id, member_id FROM point_totals
              WHERE member_id LIKE 'forgotten:%'
        UNION SELECT community_id, reply_to_author_id FROM messages
              WHERE reply_to_author_id LIKE 'forgotten:%'
        UNION SELECT community_id, author_id FROM reactions WHERE author_id LIKE 'forgotten:%'
        UNION SELECT community_id, inviter_id FROM invites WHERE inviter_id LIKE 'forgotten:%'
        UNION SELECT community_id, answered_by FROM first_messages
              WHERE answered_by LIKE 'forgotten:%'
    );

UPDATE ledger SET member_id = (SELECT new FROM forgotten_ids f
    WHERE f.community_id = ledger.community_id AND f.old = ledger.member_id)
    WHERE member_id LIKE 'forgotten:%';
UPDATE ledger SET actor_id = (SELECT new FROM forgotten_ids f
    WHERE f.community_id = ledger.community_id AND f.old = ledger.actor_id)
    WHERE actor_id LIKE 'forgotten:%';
UPDATE ledger SET ref = (SELECT new FROM forgotten_ids f
    WHERE f.community_id = ledger.community_id AND f.old = ledger.ref)
    WHERE ref IN (SELECT old FROM forgotten_ids f WHERE f.community_id = ledger.community_id);
-- reaction refs are "message|reactor|emoji"
UPDATE ledger SET ref = (SELECT replace(ledger.ref, '|' || f.old || '|', '|' || f.new || '|')
    FROM forgotten_ids f WHERE f.community_id = ledger.community_id
    AND instr(ledger.ref, '|' || f.old || '|') > 0)
    WHERE instr(ref, '|forgotten:') > 0;
UPDATE point_totals SET member_id = (SELECT new FROM forgotten_ids f
    WHERE f.community_id = point_totals.community_id AND f.old = point_totals.member_id)
    WHERE member_id LIKE 'forgotten:%';
UPDATE messages SET reply_to_author_id = (SELECT new FROM forgotten_ids f
    WHERE f.community_id = messages.community_id AND f.old = messages.reply_to_author_id)
    WHERE reply_to_author_id LIKE 'forgotten:%';
UPDATE reactions SET author_id = (SELECT new FROM forgotten_ids f
    WHERE f.community_id = reactions.community_id AND f.old = reactions.author_id)
    WHERE author_id LIKE 'forgotten:%';
UPDATE invites SET inviter_id = (SELECT new FROM forgotten_ids f
    WHERE f.community_id = invites.community_id AND f.old = invites.inviter_id)
    WHERE inviter_id LIKE 'forgotten:%';
UPDATE first_messages SET answered_by = (SELECT new FROM forgotten_ids f
    WHERE f.community_id = first_messages.community_id AND f.old = first_messages.answered_by)
    WHERE answered_by LIKE 'forgotten:%';
DROP TABLE forgotten_ids;

-- 2. Content items kept the path a moderator typed after --file (any file of the host).
--    Attachments are now kept by the bot itself in <database>.files/; old paths are dropped,
--    and those items post their text alone until a moderator adds them again with the file.
UPDATE content_items SET file = NULL WHERE file IS NOT NULL;
