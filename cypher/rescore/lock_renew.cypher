// Heartbeat: extend the lease only while this owner still holds it with its fencing token (a lost lease is not renewed)
// params: name:str, owner:str, fence:int, now:int, expires_at:int, run_id:str?
MATCH (l:RescoreLock {name: $name})
WHERE l.owner = $owner AND l.fence = $fence
SET l.expires_at = $expires_at, l.heartbeat_at = $now, l.run_id = coalesce($run_id, l.run_id)
RETURN l.fence AS fence
