// Take or renew the rescore lease if it is free, lapsed, ours, or held by a dead owner named by the caller (the first SET takes Neo4j's node write lock before the check, so two jobs cannot both pass it); a new holder gets the next fencing token
// params: name:str, owner:str, dead_owner:str?, host:str, pid:int, now:int, expires_at:int
MERGE (l:RescoreLock {name: $name})
SET l.touched_at = $now
WITH l
WHERE l.owner IS NULL OR l.expires_at IS NULL OR l.expires_at < $now OR l.owner = $owner
   OR ($dead_owner IS NOT NULL AND l.owner = $dead_owner)
SET l.fence = CASE WHEN l.owner = $owner THEN l.fence ELSE coalesce(l.fence, 0) + 1 END,
    l.acquired_at = CASE WHEN l.owner = $owner THEN l.acquired_at ELSE $now END,
    l.run_id = CASE WHEN l.owner = $owner THEN l.run_id ELSE null END
SET l.owner = $owner, l.host = $host, l.pid = $pid, l.expires_at = $expires_at,
    l.heartbeat_at = $now
RETURN l.owner AS owner, l.fence AS fence
