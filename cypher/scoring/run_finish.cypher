// Close a ScoringRun record: succeeded only after every node and ring of the run is written; extra holds the run's figures (drift, rings new/grown/closed)
// params: run_id:str, status:str, finished_at:int, nodes_scored:int, flagged:int, rings:int, error:str?, extra:map
MATCH (r:ScoringRun {run_id: $run_id})
SET r += $extra
SET r.status = $status, r.finished_at = $finished_at, r.nodes_scored = $nodes_scored,
    r.flagged = $flagged, r.rings = $rings, r.error = $error
