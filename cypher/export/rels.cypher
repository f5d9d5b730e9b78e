// Export one relationship type as of a time, optionally only what is newer than $since (page by page)
// template: rel
// params: as_of:int?, since:int?, skip:int, limit:int
MATCH (a:__SRC__)-[r:__TYPE__]->(b:__DST__)
WHERE ($as_of IS NULL OR r.__TIME__ <= $as_of)
  AND ($since IS NULL OR r.__TIME__ > $since)
RETURN a.__SRC_KEY__ AS src, b.__DST_KEY__ AS dst, __PROPS__
SKIP $skip LIMIT $limit
