// Every scored node of one label with its score, flag and verdict (report, benchmarks)
// template: scored
MATCH (n:__LABEL__)
WHERE n.anomaly_score IS NOT NULL
RETURN n.__KEY__ AS key, n.anomaly_score AS score, n:Flagged AS flagged, n.verdict AS verdict
