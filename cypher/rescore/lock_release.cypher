// Release the rescore lease (only by its owner)
// params: name:str, owner:str
MATCH (l:RescoreLock {name: $name})
WHERE l.owner = $owner
SET l.owner = null, l.expires_at = 0, l.run_id = null
