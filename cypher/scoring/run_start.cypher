// Open a ScoringRun record (status running until the run has written everything)
// params: run_id, model_version, started_at, as_of, mode, watermark
MERGE (r:ScoringRun {run_id: $run_id})
SET r.model_version = $model_version, r.started_at = $started_at, r.as_of = $as_of,
    r.mode = $mode, r.watermark = $watermark, r.status = 'running', r.nodes_scored = 0
