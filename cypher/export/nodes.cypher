// Export one label as of a time, optionally only what is newer than $since (page by page); nodes without a time are timeless; or only what an ingest after position $changed_after created or changed
// template: node
// params: as_of:int?, since:int?, changed_after:int?, skip:int, limit:int
MATCH (n:__LABEL__)
WHERE ($as_of IS NULL OR n.__TIME__ IS NULL OR n.__TIME__ <= $as_of)
  AND (($since IS NULL AND $changed_after IS NULL)
       OR ($since IS NOT NULL AND ((n.__TIME__ IS NULL AND $changed_after IS NULL)
                                   OR n.__TIME__ > $since))
       OR ($changed_after IS NOT NULL AND coalesce(n.ingest_seq, 0) > $changed_after))
RETURN n.__KEY__ AS __KEY__, __PROPS__
SKIP $skip LIMIT $limit
