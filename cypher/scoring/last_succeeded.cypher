// The latest succeeded scoring run: its watermark (an ingest position) and settings decide what the next run rescores
MATCH (r:ScoringRun)
WHERE r.status = 'succeeded'
RETURN r.run_id AS run_id, r.as_of AS as_of, r.started_at AS started_at,
       r.finished_at AS finished_at, r.model_version AS model_version,
       r.watermark AS watermark, r.settings AS settings, r.mode AS mode
ORDER BY r.started_at DESC
LIMIT 1
