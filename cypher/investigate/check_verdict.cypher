// Why a user verdict would be refused (no rows = it may be written): the value must be 'fraud', 'legit' or 'unsure' in lower case, the user must exist, the investigator must be named
// params: user_id:str, verdict:str, by:str
WITH $verdict AS verdict
WHERE verdict IS NULL OR NOT verdict IN ['fraud', 'legit', 'unsure']
RETURN "verdict must be 'fraud', 'legit' or 'unsure' (lower case), got " +
       coalesce("'" + toString(verdict) + "'", 'nothing') AS problem
UNION
OPTIONAL MATCH (u:User {user_id: $user_id})
WITH count(u) AS found
WHERE found = 0
RETURN 'no User with user_id ' + coalesce("'" + toString($user_id) + "'", 'null') AS problem
UNION
WITH $by AS by
WHERE by IS NULL OR trim(toString(by)) = ''
RETURN 'say who decides: by must name the investigator' AS problem
