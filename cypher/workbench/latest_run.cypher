// Workbench: the latest succeeded scoring run (what "new" and "grown" in the queue are relative to)
MATCH (r:ScoringRun)
WHERE r.status = 'succeeded'
RETURN r.run_id AS run_id, r.started_at AS started_at, r.as_of AS as_of,
       r.model_version AS model_version
ORDER BY r.started_at DESC
LIMIT 1
