// Members of every open ring (benchmarks: planted-ring recovery)
MATCH (u:User)-[:MEMBER_OF]->(r:FraudRing)
WHERE r.closed_at IS NULL
RETURN r.ring_id AS ring_id, collect(u.user_id) AS members
