// Export the users' own attributes of one label (one row per node and present attribute; names are the validated attr_* properties, passed as data), with the same as-of, since and ingest filters as export/nodes
// template: node
// params: names:list, as_of:int?, since:int?, changed_after:int?, skip:int, limit:int
MATCH (n:__LABEL__)
WHERE ($as_of IS NULL OR n.__TIME__ IS NULL OR n.__TIME__ <= $as_of)
  AND (($since IS NULL AND $changed_after IS NULL)
       OR ($since IS NOT NULL AND (n.__TIME__ IS NULL OR n.__TIME__ > $since))
       OR ($changed_after IS NOT NULL AND coalesce(n.ingest_seq, 0) > $changed_after))
UNWIND $names AS name
WITH n, name, n[name] AS value
WHERE value IS NOT NULL
RETURN n.__KEY__ AS __KEY__, name AS name, value AS value
SKIP $skip LIMIT $limit
