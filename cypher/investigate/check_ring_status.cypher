// Why a ring case status would be refused (no rows = it may be written): open, investigating or closed; the ring must exist; the investigator must be named
// params: ring_id:str, status:str, by:str
WITH $status AS status
WHERE status IS NULL OR NOT status IN ['open', 'investigating', 'closed']
RETURN "status must be 'open', 'investigating' or 'closed' (lower case), got " +
       coalesce("'" + toString(status) + "'", 'nothing') AS problem
UNION
OPTIONAL MATCH (r:FraudRing {ring_id: $ring_id})
WITH count(r) AS found
WHERE found = 0
RETURN 'no FraudRing with ring_id ' + coalesce("'" + toString($ring_id) + "'", 'null') AS problem
UNION
WITH $by AS by
WHERE by IS NULL OR trim(toString(by)) = ''
RETURN 'say who decides: by must name the investigator' AS problem
