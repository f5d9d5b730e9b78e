// Create or update rings (kept ids keep detected_at; growth is remembered in prev_size and grown_at; a reappearing ring reopens)
// params: rows:list, run_id:str, now:int
UNWIND $rows AS row
MERGE (r:FraudRing {ring_id: row.ring_id})
ON CREATE SET r.detected_at = $now
SET r.prev_size = r.size,
    r.grown_at = CASE WHEN r.size IS NOT NULL AND row.size > r.size THEN $now ELSE r.grown_at END
SET r.size = row.size, r.score = row.score, r.first_seen = row.first_seen,
    r.last_seen = row.last_seen, r.shared = row.shared, r.score_run = $run_id,
    r.updated_at = $now, r.closed_at = null
