// The ingest sequence number a build was given
// params: name:str
MATCH (i:IngestRun {name: $name})
RETURN i.seq AS seq
