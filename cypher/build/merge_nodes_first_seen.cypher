// Upsert entities first seen in events or orders (devices, IPs, addresses, cards): first_seen only moves earlier
// template: node
// params: rows:list
UNWIND $rows AS row
MERGE (n:__LABEL__ {__KEY__: row.key})
SET n += row.props
SET n.first_seen = CASE WHEN n.first_seen IS NULL OR row.first_seen < n.first_seen THEN row.first_seen ELSE n.first_seen END
