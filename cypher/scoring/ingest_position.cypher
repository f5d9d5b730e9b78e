// Where ingestion stands: the highest build sequence number, and the lowest one still running (started after $alive_since; older running builds count as dead)
// params: alive_since:int
MATCH (i:IngestRun)
WHERE i.seq IS NOT NULL
RETURN max(i.seq) AS top,
       min(CASE WHEN i.status = 'running' AND i.started_at >= $alive_since THEN i.seq END) AS open
