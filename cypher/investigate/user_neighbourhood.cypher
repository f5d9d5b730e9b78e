// A user's neighbourhood with scores: devices, IPs and orders, and the other users on the same devices/IPs
// params: user_id
MATCH (u:User {user_id: $user_id})
OPTIONAL MATCH (u)-[:USED_DEVICE|USED_IP]->(e)
OPTIONAL MATCH (e)<-[:USED_DEVICE|USED_IP]-(o:User)
WHERE o <> u
WITH u, e, collect(DISTINCT o.user_id) AS others,
     sum(CASE WHEN o:Flagged THEN 1 ELSE 0 END) AS flagged_others
RETURN u.user_id AS user_id, round(u.anomaly_score * 1000) / 1000.0 AS user_score,
       u.ring_id AS ring_id, CASE WHEN e.device_id IS NULL THEN 'IP' ELSE 'Device' END AS kind,
       coalesce(e.device_id, e.ip) AS entity, e.anomaly_score AS entity_score,
       size(others) AS other_users, flagged_others, others[0..5] AS sample_users
ORDER BY flagged_others DESC, other_users DESC
