// The drift alert state the latest run left (what was raised, of which model; a drift alert is raised once across runs)
MATCH (r:ScoringRun)
WHERE r.drift_alert IS NOT NULL
RETURN r.run_id AS run_id, r.drift_alert AS state
ORDER BY r.started_at DESC
LIMIT 1
