// Nodes of one scored label never scored, or last written by a run that did not succeed: the next run rewrites them
// template: scored
// params: bad_runs:list
MATCH (n:__LABEL__)
WHERE n.anomaly_score IS NULL OR n.score_run IN $bad_runs
RETURN n.__KEY__ AS key
