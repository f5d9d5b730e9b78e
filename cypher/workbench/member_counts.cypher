// Workbench member totals: how many orders and device/IP links a user has (for "+N more")
// params: user_id:str
MATCH (u:User {user_id: $user_id})
OPTIONAL MATCH (u)-[:PLACED]->(o:Order)
WITH u, count(o) AS orders
OPTIONAL MATCH (u)-[x:USED_DEVICE|USED_IP]->()
RETURN orders, count(x) AS sessions
