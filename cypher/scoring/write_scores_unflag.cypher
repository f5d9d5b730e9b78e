// Write one run's scores onto nodes of one label that drop below the threshold and remove :Flagged (same statement)
// template: scored
// params: rows:list, run_id:str, model_version:str, scored_at:int
UNWIND $rows AS row
MATCH (n:__LABEL__ {__KEY__: row.key})
SET n.anomaly_score = row.score, n.anomaly_pct = row.pct, n.scored_at = $scored_at,
    n.model_version = $model_version, n.score_run = $run_id, n.reasons = row.reasons,
    n.flagged_since = null
REMOVE n:Flagged
