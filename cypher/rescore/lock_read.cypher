// Who holds the rescore lock, and until when
// params: name:str
MATCH (l:RescoreLock {name: $name})
RETURN l.owner AS owner, l.expires_at AS expires_at, l.acquired_at AS acquired_at
