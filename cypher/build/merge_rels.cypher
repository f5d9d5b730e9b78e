// Upsert one relationship per (source, target) pair with its properties; one created or changed gets this build's ingest sequence number
// template: rel
// params: rows:list, seq:int
UNWIND $rows AS row
MATCH (a:__SRC__ {__SRC_KEY__: row.src})
MATCH (b:__DST__ {__DST_KEY__: row.dst})
MERGE (a)-[r:__TYPE__]->(b)
ON CREATE SET r.ingest_seq = $seq
WITH r, row, [k IN keys(row.props) WHERE r[k] IS NULL OR r[k] <> row.props[k]] AS changed
SET r += row.props
SET r.ingest_seq = CASE WHEN size(changed) > 0 THEN $seq ELSE r.ingest_seq END
