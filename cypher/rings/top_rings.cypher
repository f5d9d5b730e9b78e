// The top open rings by score with their members and shared entities (fraudring rings)
// params: limit:int
MATCH (r:FraudRing)
WHERE r.closed_at IS NULL
WITH r ORDER BY r.score DESC, r.size DESC LIMIT $limit
OPTIONAL MATCH (u:User)-[:MEMBER_OF]->(r)
WITH r, collect(u.user_id) AS members
RETURN r.ring_id AS ring_id, r.size AS size, r.score AS score, members, r.shared AS shared,
       r.first_seen AS first_seen, r.last_seen AS last_seen, r.detected_at AS detected_at
ORDER BY score DESC, size DESC
