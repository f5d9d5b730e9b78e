// Upsert nodes of one label by key; properties absent from a row are left as they were
// template: node
// params: rows:list
UNWIND $rows AS row
MERGE (n:__LABEL__ {__KEY__: row.key})
SET n += row.props
