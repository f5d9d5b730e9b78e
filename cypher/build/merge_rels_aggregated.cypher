// Fold timestamped observations into one edge: the edge keeps the set of its observation times, so count, first_seen and last_seen are exact whatever order rows arrive in (a re-run adds nothing); new observations set this build's ingest sequence number
// template: rel
// params: rows:list, seq:int
UNWIND $rows AS row
MATCH (a:__SRC__ {__SRC_KEY__: row.src})
MATCH (b:__DST__ {__DST_KEY__: row.dst})
MERGE (a)-[r:__TYPE__]->(b)
ON CREATE SET r.first_seen = row.first_seen, r.last_seen = row.last_seen, r.times = []
WITH r, row, coalesce(r.times, []) AS seen
WITH r, row, seen, [t IN row.times WHERE NOT t IN seen] AS fresh
SET r.times = seen + fresh, r.count = size(seen) + size(fresh),
    r.first_seen = CASE WHEN row.first_seen < r.first_seen THEN row.first_seen ELSE r.first_seen END,
    r.last_seen = CASE WHEN row.last_seen > r.last_seen THEN row.last_seen ELSE r.last_seen END,
    r.ingest_seq = CASE WHEN size(fresh) > 0 THEN $seq ELSE r.ingest_seq END
