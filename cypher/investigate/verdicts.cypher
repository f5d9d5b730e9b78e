// The audit trail: the latest verdicts and ring case decisions, newest first (who, what, before, why)
// params: limit:int
MATCH (v:Verdict)
RETURN v.at AS at, v.by AS by, v.entity AS entity, v.entity_id AS id, v.verdict AS verdict,
       v.previous AS previous, v.note AS note, v.ring_id AS ring_id,
       round(v.score * 1000) / 1000.0 AS score_then
ORDER BY at DESC, id
LIMIT $limit
