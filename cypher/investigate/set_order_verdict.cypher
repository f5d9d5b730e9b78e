// Record an investigator's verdict on an order ('fraud', 'legit' or 'unsure') with who, when and why, plus an audit record; training reads 'fraud'/'legit' as labels
// check: investigate/check_order_verdict
// params: order_id:str, verdict:str, by:str, note:str?
MATCH (u:Order {order_id: $order_id})
WHERE $verdict IN ['fraud', 'legit', 'unsure'] AND trim(coalesce($by, '')) <> ''
WITH u, timestamp() AS now
CREATE (v:Verdict {entity: 'Order', entity_id: u.order_id, verdict: $verdict,
                   previous: u.verdict, by: $by, note: $note, at: now,
                   score: u.anomaly_score})
SET u.verdict = $verdict, u.verdict_at = now, u.verdict_by = $by, u.verdict_note = $note,
    u.verdict_source = 'investigator'
RETURN u.order_id AS order_id, u.verdict AS verdict, u.verdict_at AS verdict_at,
       u.verdict_by AS verdict_by
