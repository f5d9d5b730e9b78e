// The last scoring runs with dates (Neo4j Browser): status, mode, nodes written, flagged, rings
// dialect: neo4j
// params: limit:int
MATCH (r:ScoringRun)
RETURN r.run_id AS run_id, r.status AS status, r.mode AS mode, r.model_version AS model_version,
       datetime({epochMillis: r.started_at}) AS started_at,
       datetime({epochMillis: r.finished_at}) AS finished_at, r.nodes_scored AS nodes_scored,
       r.flagged AS flagged, r.rings AS rings, r.error AS error
ORDER BY r.started_at DESC, run_id
LIMIT $limit
