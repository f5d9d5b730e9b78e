// The drift reference kept by the first run of a model version (model monitoring)
// params: model_version:str
MATCH (r:ScoringRun)
WHERE r.model_version = $model_version AND r.reference IS NOT NULL
RETURN r.run_id AS run_id, r.reference AS reference
ORDER BY r.started_at
LIMIT 1
