// Export one label as of a time, optionally only what is newer than $since (page by page); nodes without a time are timeless
// template: node
// params: as_of:int?, since:int?, skip:int, limit:int
MATCH (n:__LABEL__)
WHERE ($as_of IS NULL OR n.__TIME__ IS NULL OR n.__TIME__ <= $as_of)
  AND ($since IS NULL OR n.__TIME__ IS NULL OR n.__TIME__ > $since)
RETURN n.__KEY__ AS __KEY__, __PROPS__
SKIP $skip LIMIT $limit
