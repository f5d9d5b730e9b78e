// Remove memberships of users who left a ring that is still open (WITH anchors the plan on the ring's index: otherwise FalkorDB scans every user once per ring)
// params: rows:list
UNWIND $rows AS row
MATCH (r:FraudRing {ring_id: row.ring_id})
WITH r, row
MATCH (u:User)-[m:MEMBER_OF]->(r)
WHERE NOT u.user_id IN row.members
DELETE m
