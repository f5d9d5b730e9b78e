// Delete up to $batch nodes with their relationships; run until fewer than $batch are deleted (works on both stores, unlike CALL {} IN TRANSACTIONS, which FalkorDB lacks)
// params: batch:int
MATCH (n)
WITH n LIMIT $batch
DETACH DELETE n
