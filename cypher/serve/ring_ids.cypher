// Every user's ring id (the serving path answers ring_id from this map, read again with each newer scoring run)
MATCH (u:User)
WHERE u.ring_id IS NOT NULL
RETURN u.user_id AS key, u.ring_id AS ring_id
