// Close a ScoringRun record: succeeded only after every node and ring of the run is written
// params: run_id, status, finished_at, nodes_scored, flagged, rings, error
MATCH (r:ScoringRun {run_id: $run_id})
SET r.status = $status, r.finished_at = $finished_at, r.nodes_scored = $nodes_scored,
    r.flagged = $flagged, r.rings = $rings, r.error = $error
