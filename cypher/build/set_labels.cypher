// Known outcomes from a labels table become verdicts, never overriding an investigator's
// template: node
// params: rows:list
UNWIND $rows AS row
MATCH (n:__LABEL__ {__KEY__: row.key})
WITH n, row
WHERE n.verdict IS NULL OR n.verdict_source = 'labels'
SET n.verdict = row.verdict, n.verdict_source = 'labels', n.verdict_at = row.labeled_at
