// Fold timestamped observations into one edge: first_seen/last_seen widen, count adds only observations later than the edge's last_seen (so a re-run adds nothing)
// template: rel
// params: rows:list
UNWIND $rows AS row
MATCH (a:__SRC__ {__SRC_KEY__: row.src})
MATCH (b:__DST__ {__DST_KEY__: row.dst})
MERGE (a)-[r:__TYPE__]->(b)
ON CREATE SET r.first_seen = row.first_seen, r.last_seen = row.last_seen, r.count = size(row.times)
ON MATCH SET r.count = r.count + size([t IN row.times WHERE t > r.last_seen])
SET r.first_seen = CASE WHEN row.first_seen < r.first_seen THEN row.first_seen ELSE r.first_seen END
SET r.last_seen = CASE WHEN row.last_seen > r.last_seen THEN row.last_seen ELSE r.last_seen END
