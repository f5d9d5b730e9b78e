// Set an investigator's verdict on a user ('fraud' or 'legit'); the next training run reads it as a label
// params: user_id, verdict
MATCH (u:User {user_id: $user_id})
WHERE $verdict IN ['fraud', 'legit']
SET u.verdict = $verdict, u.verdict_at = timestamp()
RETURN u.user_id AS user_id, u.verdict AS verdict, u.verdict_at AS verdict_at
