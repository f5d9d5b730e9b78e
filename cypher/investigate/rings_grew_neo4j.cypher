// Open rings that are larger now than at the scoring run before, times shown as dates (Neo4j Browser)
// dialect: neo4j
// params: since:int
MATCH (r:FraudRing)
WHERE r.closed_at IS NULL AND r.prev_size IS NOT NULL AND r.size > r.prev_size
  AND r.grown_at IS NOT NULL AND r.grown_at >= $since
RETURN r.ring_id AS ring_id, r.prev_size AS previous_size, r.size AS size,
       r.size - r.prev_size AS grew_by, round(r.score * 1000) / 1000.0 AS score,
       datetime({epochMillis: r.grown_at}) AS grown_at, r.shared AS shared
ORDER BY grew_by DESC, score DESC, ring_id
