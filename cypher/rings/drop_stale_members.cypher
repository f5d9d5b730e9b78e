// Remove memberships of users who left a ring that is still open
// params: rows
UNWIND $rows AS row
MATCH (u:User)-[m:MEMBER_OF]->(r:FraudRing {ring_id: row.ring_id})
WHERE NOT u.user_id IN row.members
DELETE m
