// Investigator verdicts ('fraud' or 'legit') of one scored label, read back as training labels
// template: scored
MATCH (n:__LABEL__)
WHERE n.verdict IS NOT NULL
RETURN n.__KEY__ AS key, n.verdict AS verdict
