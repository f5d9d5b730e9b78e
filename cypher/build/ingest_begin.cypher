// Open an ingest (one build): take the next ingest sequence number (the counter's SET locks it, so two builds never share one) and record the build as running
// params: name:str, now:int, owner:str
MERGE (c:IngestRun {name: 'sequence'})
SET c.last = coalesce(c.last, 0) + 1
CREATE (i:IngestRun {name: $name, seq: c.last, status: 'running', started_at: $now, owner: $owner})
