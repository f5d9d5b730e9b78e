// The latest succeeded scoring run: its as_of is the rescoring watermark
MATCH (r:ScoringRun)
WHERE r.status = 'succeeded'
RETURN r.run_id AS run_id, r.as_of AS as_of, r.started_at AS started_at,
       r.finished_at AS finished_at, r.model_version AS model_version
ORDER BY r.as_of DESC, r.started_at DESC
LIMIT 1
