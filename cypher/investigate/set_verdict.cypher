// Record an investigator's verdict on a user ('fraud', 'legit' or 'unsure') with who, when and why, plus an audit record; training reads 'fraud'/'legit' as labels
// check: investigate/check_verdict
// params: user_id:str, verdict:str, by:str, note:str?
MATCH (u:User {user_id: $user_id})
WHERE $verdict IN ['fraud', 'legit', 'unsure'] AND trim(coalesce($by, '')) <> ''
WITH u, timestamp() AS now
CREATE (v:Verdict {entity: 'User', entity_id: u.user_id, verdict: $verdict,
                   previous: u.verdict, by: $by, note: $note, at: now, ring_id: u.ring_id,
                   score: u.anomaly_score})
SET u.verdict = $verdict, u.verdict_at = now, u.verdict_by = $by, u.verdict_note = $note,
    u.verdict_source = 'investigator'
RETURN u.user_id AS user_id, u.verdict AS verdict, u.verdict_at AS verdict_at,
       u.verdict_by AS verdict_by
