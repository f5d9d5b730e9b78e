// Set a ring's case status ('open', 'investigating' or 'closed') with who, when and why, plus an audit record (detection's own closed_at is separate: a dissolved ring)
// check: investigate/check_ring_status
// params: ring_id:str, status:str, by:str, note:str?
MATCH (r:FraudRing {ring_id: $ring_id})
WHERE $status IN ['open', 'investigating', 'closed'] AND trim(coalesce($by, '')) <> ''
WITH r, timestamp() AS now
CREATE (v:Verdict {entity: 'FraudRing', entity_id: r.ring_id, verdict: $status,
                   previous: coalesce(r.case_status, 'open'), by: $by, note: $note, at: now,
                   ring_id: r.ring_id, score: r.score})
SET r.case_status = $status, r.case_status_at = now, r.case_status_by = $by
RETURN r.ring_id AS ring_id, r.case_status AS case_status, r.case_status_at AS case_status_at
