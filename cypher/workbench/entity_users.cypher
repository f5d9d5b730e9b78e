// Workbench entity view: the users of a device, IP, card or address (directly or through their orders), with score, ring and first/last use
// params: id:str, limit:int
CALL {
  MATCH (e:Device {device_id: $id}) RETURN e
  UNION
  MATCH (e:IP {ip: $id}) RETURN e
  UNION
  MATCH (e:PaymentMethod {payment_id: $id}) RETURN e
  UNION
  MATCH (e:Address {address_id: $id}) RETURN e
}
CALL {
  WITH e
  MATCH (u:User)-[x:USED_DEVICE|USED_IP]->(e)
  RETURN u, x.first_seen AS first_use, x.last_seen AS last_use
  UNION ALL
  WITH e
  MATCH (u:User)-[:PLACED]->(o:Order)-[:FROM_DEVICE|FROM_IP|SHIPPED_TO|PAID_WITH]->(e)
  RETURN u, o.created_at AS first_use, o.created_at AS last_use
}
WITH e, u, min(first_use) AS first_use, max(last_use) AS last_use
RETURN CASE WHEN e:Device THEN 'device' WHEN e:IP THEN 'IP' WHEN e:PaymentMethod THEN 'card'
       ELSE 'address' END AS kind, $id AS entity, u.user_id AS user_id,
       u.anomaly_score AS score, u:Flagged AS flagged, u.ring_id AS ring_id,
       u.verdict AS verdict, first_use, last_use
ORDER BY score DESC, user_id
LIMIT $limit
