// Set an investigator's verdict on an order ('fraud' or 'legit'); the next training run reads it as a label
// params: order_id, verdict
MATCH (o:Order {order_id: $order_id})
WHERE $verdict IN ['fraud', 'legit']
SET o.verdict = $verdict, o.verdict_at = timestamp()
RETURN o.order_id AS order_id, o.verdict AS verdict, o.verdict_at AS verdict_at
