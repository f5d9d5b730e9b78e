// Investigator verdicts ('fraud' or 'legit') of one scored label and when they were given (dated training labels)
// template: scored
MATCH (n:__LABEL__)
WHERE n.verdict IS NOT NULL
RETURN n.__KEY__ AS key, n.verdict AS verdict, n.verdict_at AS verdict_at
