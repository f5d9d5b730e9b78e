// Workbench ring graph: each member's use of every device, IP, card or address two or more members share, with first and last use and how often (cards and addresses through orders)
// params: ring_id:str
MATCH (u:User)-[:MEMBER_OF]->(:FraudRing {ring_id: $ring_id})
CALL {
  WITH u
  MATCH (u)-[x:USED_DEVICE|USED_IP]->(e)
  RETURN e, x.first_seen AS first_use, x.last_seen AS last_use, coalesce(x.count, 1) AS uses
  UNION ALL
  WITH u
  MATCH (u)-[:PLACED]->(o:Order)-[:FROM_DEVICE|FROM_IP|SHIPPED_TO|PAID_WITH]->(e)
  RETURN e, o.created_at AS first_use, o.created_at AS last_use, 1 AS uses
}
WITH e, u, min(first_use) AS first_use, max(last_use) AS last_use, sum(uses) AS uses
WITH e, collect({user_id: u.user_id, first_use: first_use, last_use: last_use, uses: uses})
     AS links
WHERE size(links) >= 2
UNWIND links AS link
RETURN link.user_id AS user_id,
       CASE WHEN e:Device THEN 'device' WHEN e:IP THEN 'IP' WHEN e:PaymentMethod THEN 'card'
       ELSE 'address' END AS kind,
       coalesce(e.device_id, e.ip, e.payment_id, e.address_id) AS entity,
       e.anomaly_score AS entity_score, e:Flagged AS entity_flagged,
       link.first_use AS first_use, link.last_use AS last_use, link.uses AS uses
ORDER BY kind, entity, user_id
