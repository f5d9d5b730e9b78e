// Upsert entities first seen in events or orders (devices, IPs, addresses, cards): first_seen only moves earlier; a node created or changed gets this build's ingest sequence number
// template: node
// params: rows:list, seq:int
UNWIND $rows AS row
MERGE (n:__LABEL__ {__KEY__: row.key})
ON CREATE SET n.ingest_seq = $seq
WITH n, row, [k IN keys(row.props) WHERE n[k] IS NULL OR n[k] <> row.props[k]] AS changed,
     (row.first_seen IS NOT NULL AND (n.first_seen IS NULL OR row.first_seen < n.first_seen)) AS earlier
SET n += row.props
SET n.first_seen = CASE WHEN earlier THEN row.first_seen ELSE n.first_seen END,
    n.ingest_seq = CASE WHEN size(changed) > 0 OR earlier THEN $seq ELSE n.ingest_seq END
