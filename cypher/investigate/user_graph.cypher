// A user's neighbourhood as a picture (Browser graph view): devices and IPs, orders with their cards and addresses, and the users sharing any of them
// params: user_id:str
MATCH (u:User {user_id: $user_id})
CALL {
  WITH u
  MATCH p = (u)-[:USED_DEVICE|USED_IP]->(e)
  RETURN p, e
  UNION
  WITH u
  MATCH p = (u)-[:PLACED]->(:Order)-[:FROM_DEVICE|FROM_IP|SHIPPED_TO|PAID_WITH]->(e)
  RETURN p, e
}
OPTIONAL MATCH q = (e)<-[:USED_DEVICE|USED_IP]-(o:User)
WHERE o <> u
OPTIONAL MATCH s = (e)<-[:FROM_DEVICE|FROM_IP|SHIPPED_TO|PAID_WITH]-(:Order)<-[:PLACED]-(w:User)
WHERE w <> u
RETURN p, q, s
LIMIT 300
