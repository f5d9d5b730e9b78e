// Open rings that grew (size now larger than at the previous run, or grown since a time)
// params: since
MATCH (r:FraudRing)
WHERE r.closed_at IS NULL AND r.grown_at IS NOT NULL AND r.grown_at >= $since
RETURN r.ring_id AS ring_id, r.prev_size AS previous_size, r.size AS size,
       round(r.score * 1000) / 1000.0 AS score, r.grown_at AS grown_at, r.shared AS shared
ORDER BY r.size - r.prev_size DESC, r.score DESC
