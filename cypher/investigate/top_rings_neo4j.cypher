// Top fraud rings (open, by score) with dates (Neo4j Browser)
// dialect: neo4j
// params: limit:int
MATCH (r:FraudRing)
WHERE r.closed_at IS NULL
OPTIONAL MATCH (u:User)-[:MEMBER_OF]->(r)
WITH r, collect(u.user_id) AS members
RETURN r.ring_id AS ring_id, r.size AS size, round(r.score * 1000) / 1000.0 AS score,
       coalesce(r.case_status, 'open') AS case_status, members[0..5] AS sample_members,
       r.shared AS shared, datetime({epochMillis: r.first_seen}) AS first_seen,
       datetime({epochMillis: r.last_seen}) AS last_seen,
       datetime({epochMillis: r.detected_at}) AS detected_at
ORDER BY score DESC, size DESC, ring_id
LIMIT $limit
