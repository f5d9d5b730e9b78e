// Clear ring_id on users who are no longer a member of that open ring (run after memberships are pruned and rings closed)
MATCH (u:User)
WHERE u.ring_id IS NOT NULL
OPTIONAL MATCH (u)-[:MEMBER_OF]->(r:FraudRing {ring_id: u.ring_id})
WITH u, r
WHERE r IS NULL OR r.closed_at IS NOT NULL
SET u.ring_id = null
