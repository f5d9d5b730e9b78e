// Open rings with what was already alerted about them (each alert is raised once across runs)
MATCH (r:FraudRing)
WHERE r.closed_at IS NULL
RETURN r.ring_id AS ring_id, r.size AS size, r.score AS score, r.shared AS shared,
       r.detected_at AS detected_at, r.alerted_new_at AS alerted_new_at,
       r.alerted_size AS alerted_size, r.alerted_score_at AS alerted_score_at
