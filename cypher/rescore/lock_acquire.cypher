// Take or renew the rescore lock if it is free, expired or already ours (the first SET takes Neo4j's node write lock before the check, so two jobs cannot both pass it)
// params: name:str, owner:str, now:int, expires_at:int
MERGE (l:RescoreLock {name: $name})
SET l.touched_at = $now
WITH l
WHERE l.owner IS NULL OR l.expires_at IS NULL OR l.expires_at < $now OR l.owner = $owner
SET l.owner = $owner, l.expires_at = $expires_at, l.acquired_at = $now
RETURN l.owner AS owner
