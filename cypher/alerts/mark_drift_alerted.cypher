// Keep the drift alert state (JSON: model, features alerted and still moved, alerts raised) on this run's record
// params: run_id:str, state:str
MATCH (r:ScoringRun {run_id: $run_id})
SET r.drift_alert = $state
