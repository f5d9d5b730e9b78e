// Record the users' declared attributes (JSON: label -> name -> kind) on the graph's schema node, so training and scoring know each attribute's kind without the mapping file
// params: rows:list
UNWIND $rows AS row
MERGE (s:GraphSchema {name: row.name})
SET s.attributes_json = row.attributes_json
