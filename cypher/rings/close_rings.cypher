// Close rings that dissolved: they stay (with their MEMBER_OF history), marked closed_at
// params: ring_ids:list, now:int
UNWIND $ring_ids AS id
MATCH (r:FraudRing {ring_id: id})
WHERE r.closed_at IS NULL
SET r.closed_at = $now
