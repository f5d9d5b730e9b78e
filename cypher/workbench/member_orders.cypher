// Workbench member timeline: a user's orders, newest first, with score, verdict and the device, IP, card and address of each
// params: user_id:str, limit:int
MATCH (:User {user_id: $user_id})-[:PLACED]->(o:Order)
WITH o ORDER BY o.created_at DESC, o.order_id LIMIT $limit
OPTIONAL MATCH (o)-[:FROM_DEVICE]->(d:Device)
OPTIONAL MATCH (o)-[:FROM_IP]->(i:IP)
OPTIONAL MATCH (o)-[:PAID_WITH]->(p:PaymentMethod)
OPTIONAL MATCH (o)-[:SHIPPED_TO]->(a:Address)
RETURN o.order_id AS order_id, o.created_at AS at, o.amount AS amount, o.status AS status,
       o.anomaly_score AS score, o:Flagged AS flagged, o.verdict AS verdict,
       d.device_id AS device, i.ip AS ip, p.payment_id AS card, a.address_id AS address
ORDER BY at DESC, order_id
