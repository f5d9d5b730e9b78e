// Export one label as of a time, one range of internal node ids at a time (embedded store: a range scan costs what it returns, where SKIP re-reads every earlier row); or only what an ingest after position $changed_after created or changed
// dialect: falkordb
// template: node
// params: lo:int, hi:int, as_of:int?, since:int?, changed_after:int?, skip:int, limit:int
MATCH (n:__LABEL__)
WHERE id(n) >= $lo AND id(n) < $hi
  AND ($as_of IS NULL OR n.__TIME__ IS NULL OR n.__TIME__ <= $as_of)
  AND (($since IS NULL AND $changed_after IS NULL)
       OR ($since IS NOT NULL AND ((n.__TIME__ IS NULL AND $changed_after IS NULL)
                                   OR n.__TIME__ > $since))
       OR ($changed_after IS NOT NULL AND coalesce(n.ingest_seq, 0) > $changed_after))
RETURN n.__KEY__ AS __KEY__, __PROPS__
SKIP $skip LIMIT $limit
