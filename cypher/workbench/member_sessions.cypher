// Workbench member timeline: a user's sessions as device and IP use (first seen, last seen, how many events), newest first
// params: user_id:str, limit:int
MATCH (:User {user_id: $user_id})-[x:USED_DEVICE|USED_IP]->(e)
RETURN CASE WHEN e:Device THEN 'device' ELSE 'IP' END AS kind,
       coalesce(e.device_id, e.ip) AS entity, x.first_seen AS first_seen,
       x.last_seen AS last_seen, x.count AS events, e.anomaly_score AS entity_score
ORDER BY last_seen DESC, entity
LIMIT $limit
