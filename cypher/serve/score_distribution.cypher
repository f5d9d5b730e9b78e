// The scores one label got in the latest scoring runs (the online scorer ranks a new score among them for anomaly_pct)
// template: scored
MATCH (n:__LABEL__)
WHERE n.anomaly_score IS NOT NULL
RETURN n.anomaly_score AS score
