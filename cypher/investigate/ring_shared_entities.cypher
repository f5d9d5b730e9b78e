// The devices and IPs a ring's members share, with how many members use each
// params: ring_id
MATCH (u:User)-[:MEMBER_OF]->(r:FraudRing {ring_id: $ring_id})
MATCH (u)-[:USED_DEVICE|USED_IP]->(e)
WITH e, collect(u.user_id) AS members
WHERE size(members) >= 2
RETURN CASE WHEN e.device_id IS NULL THEN 'IP' ELSE 'Device' END AS kind,
       coalesce(e.device_id, e.ip) AS entity, size(members) AS members_sharing,
       e.anomaly_score AS entity_score, members
ORDER BY members_sharing DESC
