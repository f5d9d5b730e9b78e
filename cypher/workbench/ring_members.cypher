// Workbench ring members: score, percentile, flag, reasons and verdict of each member
// params: ring_id:str
MATCH (u:User)-[m:MEMBER_OF]->(:FraudRing {ring_id: $ring_id})
RETURN u.user_id AS user_id, u.anomaly_score AS score, u.anomaly_pct AS pct,
       u:Flagged AS flagged, u.reasons AS reasons, u.verdict AS verdict,
       u.verdict_at AS verdict_at, u.verdict_by AS verdict_by, u.verdict_note AS verdict_note,
       u.created_at AS created_at, u.country AS country, m.since AS member_since
ORDER BY score DESC, user_id
