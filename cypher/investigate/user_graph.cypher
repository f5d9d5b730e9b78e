// A user's neighbourhood as a picture (Browser graph view): devices, IPs, orders and users sharing them
// params: user_id
MATCH (u:User {user_id: $user_id})-[x]-(e)
OPTIONAL MATCH (e)-[y:USED_DEVICE|USED_IP]-(o:User)
RETURN u, x, e, y, o
LIMIT 300
