// The devices, IPs, cards and addresses two or more of a ring's members use, first and last use as dates (Neo4j Browser)
// dialect: neo4j
// params: ring_id:str
MATCH (u:User)-[:MEMBER_OF]->(r:FraudRing {ring_id: $ring_id})
CALL {
  WITH u
  MATCH (u)-[x:USED_DEVICE|USED_IP]->(e)
  RETURN e, x.first_seen AS first_use, x.last_seen AS last_use
  UNION ALL
  WITH u
  MATCH (u)-[:PLACED]->(o:Order)-[:FROM_DEVICE|FROM_IP|SHIPPED_TO|PAID_WITH]->(e)
  RETURN e, o.created_at AS first_use, o.created_at AS last_use
}
WITH e, collect(DISTINCT u.user_id) AS members, min(first_use) AS first_use,
     max(last_use) AS last_use
WHERE size(members) >= 2
WITH e, members, first_use, last_use
RETURN CASE WHEN e:Device THEN 'device' WHEN e:IP THEN 'IP' WHEN e:PaymentMethod THEN 'card'
       ELSE 'address' END AS kind,
       coalesce(e.device_id, e.ip, e.payment_id, e.address_id) AS entity,
       size(members) AS members_sharing, e.anomaly_score AS entity_score,
       datetime({epochMillis: first_use}) AS first_use, datetime({epochMillis: last_use}) AS last_use,
       members
ORDER BY members_sharing DESC, kind, entity
