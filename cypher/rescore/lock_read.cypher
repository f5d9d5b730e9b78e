// Who holds the rescore lease, until when, its fencing token and the run it is doing
// params: name:str
MATCH (l:RescoreLock {name: $name})
RETURN l.owner AS owner, l.expires_at AS expires_at, l.acquired_at AS acquired_at,
       l.heartbeat_at AS heartbeat_at, l.host AS host, l.pid AS pid, l.fence AS fence,
       l.run_id AS run_id
