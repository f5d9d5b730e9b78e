// A ring as a picture (Browser graph view): members, their ring, and every device, IP, card or address two or more members share, with the orders that lead to cards and addresses
// params: ring_id:str
MATCH (r:FraudRing {ring_id: $ring_id})<-[m:MEMBER_OF]-(u:User)
CALL {
  WITH u
  MATCH p = (u)-[:USED_DEVICE|USED_IP]->(e)
  RETURN p, e
  UNION
  WITH u
  MATCH p = (u)-[:PLACED]->(:Order)-[:FROM_DEVICE|FROM_IP|SHIPPED_TO|PAID_WITH]->(e)
  RETURN p, e
}
WITH r, e, collect(DISTINCT u) AS users, collect(p) AS paths
WHERE size(users) >= 2
UNWIND paths AS p
MATCH (r)<-[m:MEMBER_OF]-(u:User)
WHERE u = nodes(p)[0]
RETURN r, m, p
