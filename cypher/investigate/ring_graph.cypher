// A ring as a picture: members, their ring, and the devices/IPs shared by two or more members (Browser graph view)
// params: ring_id
MATCH (r:FraudRing {ring_id: $ring_id})<-[m:MEMBER_OF]-(u:User)
OPTIONAL MATCH (u)-[x:USED_DEVICE|USED_IP]->(e)<-[:USED_DEVICE|USED_IP]-(o:User)-[:MEMBER_OF]->(r)
WHERE o <> u
RETURN r, m, u, x, e
