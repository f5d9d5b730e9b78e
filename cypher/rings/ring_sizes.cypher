// Open rings with size and score (report)
MATCH (r:FraudRing)
WHERE r.closed_at IS NULL
RETURN r.ring_id AS ring_id, r.size AS size, r.score AS score
ORDER BY r.score DESC, r.size DESC
