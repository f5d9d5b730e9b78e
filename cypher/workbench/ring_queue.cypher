// Workbench queue: every open ring with size, growth, score, case status and member verdict counts
MATCH (r:FraudRing)
WHERE r.closed_at IS NULL
OPTIONAL MATCH (u:User)-[:MEMBER_OF]->(r)
WITH r, count(u) AS members, sum(CASE WHEN u.verdict = 'fraud' THEN 1 ELSE 0 END) AS fraud,
     sum(CASE WHEN u.verdict = 'legit' THEN 1 ELSE 0 END) AS legit,
     sum(CASE WHEN u.verdict = 'unsure' THEN 1 ELSE 0 END) AS unsure
RETURN r.ring_id AS ring_id, r.size AS size, r.prev_size AS prev_size, r.score AS score,
       coalesce(r.case_status, 'open') AS case_status, r.detected_at AS detected_at,
       r.grown_at AS grown_at, r.first_seen AS first_seen, r.last_seen AS last_seen,
       r.shared AS shared, r.score_run AS score_run, members, fraud, legit, unsure
