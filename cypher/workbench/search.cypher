// Workbench search: users, orders, devices, IPs, cards and addresses whose key starts with the text (exact keys first)
// params: q:str, limit:int
CALL {
  MATCH (n:User) WHERE n.user_id STARTS WITH $q
  RETURN 'user' AS kind, n.user_id AS id, n.anomaly_score AS score, n.ring_id AS ring_id
  UNION
  MATCH (n:Order) WHERE n.order_id STARTS WITH $q
  OPTIONAL MATCH (u:User)-[:PLACED]->(n)
  RETURN 'order' AS kind, n.order_id AS id, n.anomaly_score AS score, u.ring_id AS ring_id
  UNION
  MATCH (n:Device) WHERE n.device_id STARTS WITH $q
  RETURN 'device' AS kind, n.device_id AS id, n.anomaly_score AS score, null AS ring_id
  UNION
  MATCH (n:IP) WHERE n.ip STARTS WITH $q
  RETURN 'IP' AS kind, n.ip AS id, n.anomaly_score AS score, null AS ring_id
  UNION
  MATCH (n:PaymentMethod) WHERE n.payment_id STARTS WITH $q
  RETURN 'card' AS kind, n.payment_id AS id, null AS score, null AS ring_id
  UNION
  MATCH (n:Address) WHERE n.address_id STARTS WITH $q
  RETURN 'address' AS kind, n.address_id AS id, null AS score, null AS ring_id
}
RETURN kind, id, score, ring_id
ORDER BY CASE WHEN id = $q THEN 0 ELSE 1 END, id
LIMIT $limit
