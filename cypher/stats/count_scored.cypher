// Scored and flagged nodes of one label
// template: scored
MATCH (n:__LABEL__)
WHERE n.anomaly_score IS NOT NULL
RETURN count(n) AS scored, sum(CASE WHEN n:Flagged THEN 1 ELSE 0 END) AS flagged
