// Open a ScoringRun record (status running until the run has written everything); watermark is an ingest position, reason says why a run is full, settings what gives scores their meaning
// params: run_id:str, model_version:str, started_at:int, as_of:int?, mode:str, watermark:int?, reason:str?, settings:str?, fence:int?
MERGE (r:ScoringRun {run_id: $run_id})
SET r.model_version = $model_version, r.started_at = $started_at, r.as_of = $as_of,
    r.mode = $mode, r.watermark = $watermark, r.reason = $reason, r.settings = $settings,
    r.fence = $fence, r.status = 'running', r.nodes_scored = 0
