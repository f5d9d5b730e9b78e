// The latest scoring runs, newest first
// params: limit:int
MATCH (r:ScoringRun)
RETURN r.run_id AS run_id, r.status AS status, r.model_version AS model_version,
       r.started_at AS started_at, r.finished_at AS finished_at, r.nodes_scored AS nodes_scored,
       r.as_of AS as_of, r.watermark AS watermark, r.mode AS mode
ORDER BY r.started_at DESC
LIMIT $limit
