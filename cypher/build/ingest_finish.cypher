// Close an ingest: rescoring's watermark may pass its sequence number once every earlier build finished
// params: seq:int, now:int
MATCH (i:IngestRun)
WHERE i.seq = $seq
SET i.status = 'finished', i.finished_at = $now
