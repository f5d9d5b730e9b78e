// Flagged users and their scores: the vertices of the suspicion graph
MATCH (u:User:Flagged)
RETURN u.user_id AS user_id, u.anomaly_score AS score
