// Workbench ring header: one ring (open or dissolved) with its case status
// params: ring_id:str
MATCH (r:FraudRing {ring_id: $ring_id})
RETURN r.ring_id AS ring_id, r.size AS size, r.prev_size AS prev_size, r.score AS score,
       coalesce(r.case_status, 'open') AS case_status, r.case_status_by AS case_status_by,
       r.case_status_at AS case_status_at, r.detected_at AS detected_at, r.grown_at AS grown_at,
       r.first_seen AS first_seen, r.last_seen AS last_seen, r.closed_at AS closed_at,
       r.shared AS shared, r.score_run AS score_run
