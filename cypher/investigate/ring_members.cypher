// A ring's members with their scores, reasons and the devices/IPs they share with other members
// params: ring_id
MATCH (u:User)-[:MEMBER_OF]->(r:FraudRing {ring_id: $ring_id})
OPTIONAL MATCH (u)-[:USED_DEVICE|USED_IP]->(e)<-[:USED_DEVICE|USED_IP]-(o:User)-[:MEMBER_OF]->(r)
WHERE o <> u
WITH u, r, collect(DISTINCT coalesce(e.device_id, e.ip)) AS shared_with_members
RETURN r.ring_id AS ring_id, u.user_id AS user_id, round(u.anomaly_score * 1000) / 1000.0 AS score,
       u.anomaly_pct AS pct, u.verdict AS verdict, shared_with_members, u.reasons AS reasons
ORDER BY score DESC
