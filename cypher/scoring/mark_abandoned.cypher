// Mark runs that died while running as failed (called by the next run, which holds the lock)
// params: run_ids:list, finished_at:int
UNWIND $run_ids AS id
MATCH (r:ScoringRun {run_id: id})
WHERE r.status = 'running'
SET r.status = 'failed', r.finished_at = $finished_at, r.error = 'abandoned: the job stopped before finishing'
