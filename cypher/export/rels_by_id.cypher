// Export one relationship type as of a time, for the source nodes in one range of internal ids (embedded store; see nodes_by_id); or only what an ingest after position $changed_after created or changed
// dialect: falkordb
// template: rel
// params: lo:int, hi:int, as_of:int?, since:int?, changed_after:int?, skip:int, limit:int
MATCH (a:__SRC__)-[r:__TYPE__]->(b:__DST__)
WHERE id(a) >= $lo AND id(a) < $hi
  AND ($as_of IS NULL OR r.__TIME__ <= $as_of)
  AND (($since IS NULL AND $changed_after IS NULL)
       OR ($since IS NOT NULL AND coalesce(r.last_seen, r.__TIME__) > $since)
       OR ($changed_after IS NOT NULL AND coalesce(r.ingest_seq, 0) > $changed_after))
RETURN a.__SRC_KEY__ AS src, b.__DST_KEY__ AS dst, __PROPS__
SKIP $skip LIMIT $limit
