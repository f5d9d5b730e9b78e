// Remember which alerts a ring has raised (only after they were delivered)
// params: rows:list, now:int
UNWIND $rows AS row
MATCH (r:FraudRing {ring_id: row.ring_id})
SET r.alerted_new_at = CASE WHEN row.new THEN $now ELSE r.alerted_new_at END,
    r.alerted_size = CASE WHEN row.size IS NULL THEN r.alerted_size ELSE row.size END,
    r.alerted_score_at = CASE WHEN row.score THEN $now ELSE r.alerted_score_at END
