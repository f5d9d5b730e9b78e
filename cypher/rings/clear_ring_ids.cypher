// Clear ring_id on users who are no longer in any open ring
// params: members
MATCH (u:User)
WHERE u.ring_id IS NOT NULL AND NOT u.user_id IN $members
SET u.ring_id = null
