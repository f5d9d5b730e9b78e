// A ring's members with the devices and IPs they used (report drawings)
// params: ring_id:str
MATCH (u:User)-[:MEMBER_OF]->(r:FraudRing {ring_id: $ring_id})
OPTIONAL MATCH (u)-[:USED_DEVICE|USED_IP]->(e)
RETURN u.user_id AS user_id, u.anomaly_score AS score,
       CASE WHEN e.device_id IS NULL THEN 'IP' ELSE 'Device' END AS kind,
       coalesce(e.device_id, e.ip) AS entity
