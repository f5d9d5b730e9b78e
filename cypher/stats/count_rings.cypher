// Number of open fraud rings (closed rings keep their history but are not counted)
MATCH (r:FraudRing)
WHERE r.closed_at IS NULL
RETURN count(r) AS n
