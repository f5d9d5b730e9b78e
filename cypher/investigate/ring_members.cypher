// A ring's members with their scores, reasons, verdicts and the devices, IPs, cards and addresses they share with other members
// params: ring_id:str
MATCH (u:User)-[:MEMBER_OF]->(r:FraudRing {ring_id: $ring_id})
CALL {
  WITH u
  OPTIONAL MATCH (u)-[:USED_DEVICE|USED_IP]->(e)
  RETURN e
  UNION
  WITH u
  OPTIONAL MATCH (u)-[:PLACED]->(:Order)-[:FROM_DEVICE|FROM_IP|SHIPPED_TO|PAID_WITH]->(e)
  RETURN e
}
WITH r, e, collect(DISTINCT u.user_id) AS sharers
WITH r, collect(CASE WHEN e IS NOT NULL AND size(sharers) >= 2 THEN {
       what: CASE WHEN e:Device THEN 'device ' WHEN e:IP THEN 'IP ' WHEN e:PaymentMethod
             THEN 'card ' ELSE 'address ' END + coalesce(e.device_id, e.ip, e.payment_id,
             e.address_id),
       users: sharers} END) AS shared
MATCH (u:User)-[:MEMBER_OF]->(r)
RETURN r.ring_id AS ring_id, u.user_id AS user_id, round(u.anomaly_score * 1000) / 1000.0 AS score,
       u.anomaly_pct AS pct, u.verdict AS verdict,
       [s IN shared WHERE u.user_id IN s.users | s.what] AS shared_with_members,
       u.reasons AS reasons
ORDER BY score DESC, user_id
