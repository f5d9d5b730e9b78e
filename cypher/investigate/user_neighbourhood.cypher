// A user's neighbourhood with scores: devices, IPs, cards and addresses (through the user's orders), and the other users on each
// params: user_id:str
MATCH (u:User {user_id: $user_id})
CALL {
  WITH u
  OPTIONAL MATCH (u)-[:USED_DEVICE|USED_IP]->(e)
  RETURN e
  UNION
  WITH u
  OPTIONAL MATCH (u)-[:PLACED]->(:Order)-[:FROM_DEVICE|FROM_IP|SHIPPED_TO|PAID_WITH]->(e)
  RETURN e
}
WITH u, e WHERE e IS NOT NULL
CALL {
  WITH u, e
  OPTIONAL MATCH (e)<-[:USED_DEVICE|USED_IP]-(o:User)
  WHERE o <> u
  RETURN o
  UNION
  WITH u, e
  OPTIONAL MATCH (e)<-[:FROM_DEVICE|FROM_IP|SHIPPED_TO|PAID_WITH]-(:Order)<-[:PLACED]-(o:User)
  WHERE o <> u
  RETURN o
}
WITH u, e, collect(DISTINCT o.user_id) AS others,
     collect(DISTINCT CASE WHEN o:Flagged THEN o.user_id END) AS flagged
RETURN u.user_id AS user_id, round(u.anomaly_score * 1000) / 1000.0 AS user_score,
       u.ring_id AS ring_id,
       CASE WHEN e:Device THEN 'device' WHEN e:IP THEN 'IP' WHEN e:PaymentMethod THEN 'card'
       ELSE 'address' END AS kind,
       coalesce(e.device_id, e.ip, e.payment_id, e.address_id) AS entity,
       e.anomaly_score AS entity_score, size(others) AS other_users,
       size(flagged) AS flagged_others, others[0..5] AS sample_users
ORDER BY flagged_others DESC, other_users DESC, entity
