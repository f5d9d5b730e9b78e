// Upsert nodes of one label by key; properties absent from a row are left as they were; a node created or changed gets this build's ingest sequence number
// template: node
// params: rows:list, seq:int
UNWIND $rows AS row
MERGE (n:__LABEL__ {__KEY__: row.key})
ON CREATE SET n.ingest_seq = $seq
WITH n, row, [k IN keys(row.props) WHERE n[k] IS NULL OR n[k] <> row.props[k]] AS changed
SET n += row.props
SET n.ingest_seq = CASE WHEN size(changed) > 0 THEN $seq ELSE n.ingest_seq END
