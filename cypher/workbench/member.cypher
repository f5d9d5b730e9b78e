// Workbench member header: a user's score, percentile, reasons, verdict and ring
// params: user_id:str
MATCH (u:User {user_id: $user_id})
RETURN u.user_id AS user_id, u.anomaly_score AS score, u.anomaly_pct AS pct,
       u:Flagged AS flagged, u.reasons AS reasons, u.verdict AS verdict,
       u.verdict_at AS verdict_at, u.verdict_by AS verdict_by, u.verdict_note AS verdict_note,
       u.ring_id AS ring_id, u.created_at AS created_at, u.country AS country,
       u.email_domain AS email_domain, u.scored_at AS scored_at, u.score_run AS score_run
