// Runs that did not succeed, started after the last succeeded run (a killed run stays 'running')
// params: since:int?
MATCH (r:ScoringRun)
WHERE r.status <> 'succeeded' AND r.started_at >= $since
RETURN r.run_id AS run_id, r.status AS status, r.started_at AS started_at
ORDER BY r.started_at
