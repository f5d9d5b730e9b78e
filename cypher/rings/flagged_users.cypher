// Ring candidates: flagged users plus users at or above the ring percentile, with their scores (the vertices of the suspicion graph)
// params: min_pct:float
MATCH (u:User)
WHERE u:Flagged OR u.anomaly_pct >= $min_pct
RETURN u.user_id AS user_id, u.anomaly_score AS score
