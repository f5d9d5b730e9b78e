// Link ring members to their ring and put ring_id on them
// params: rows:list, now:int
UNWIND $rows AS row
MATCH (u:User {user_id: row.user_id})
MATCH (r:FraudRing {ring_id: row.ring_id})
MERGE (u)-[m:MEMBER_OF]->(r)
ON CREATE SET m.since = $now
SET u.ring_id = row.ring_id
