// Upsert one relationship per (source, target) pair with its properties
// template: rel
// params: rows:list
UNWIND $rows AS row
MATCH (a:__SRC__ {__SRC_KEY__: row.src})
MATCH (b:__DST__ {__DST_KEY__: row.dst})
MERGE (a)-[r:__TYPE__]->(b)
SET r += row.props
