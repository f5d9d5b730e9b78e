// Nodes newly flagged by the latest succeeded scoring run
// params: limit:int
MATCH (run:ScoringRun)
WHERE run.status = 'succeeded'
WITH run ORDER BY run.started_at DESC LIMIT 1
MATCH (n:Flagged)
WHERE n.flagged_since >= run.started_at
RETURN labels(n) AS labels, coalesce(n.user_id, n.order_id, n.device_id, n.ip) AS id,
       round(n.anomaly_score * 1000) / 1000.0 AS score, n.ring_id AS ring_id,
       n.reasons AS reasons, run.run_id AS run_id
ORDER BY score DESC
LIMIT $limit
