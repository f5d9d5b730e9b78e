// Open rings with their current members (a ring left without members by a crash is still listed, so it can be closed)
MATCH (r:FraudRing)
WHERE r.closed_at IS NULL
OPTIONAL MATCH (u:User)-[:MEMBER_OF]->(r)
RETURN r.ring_id AS ring_id, r.size AS size, collect(u.user_id) AS members
