// The latest observation time of one relationship type (last_seen on aggregated edges)
// template: rel
MATCH ()-[r:__TYPE__]->()
RETURN max(coalesce(r.last_seen, r.__TIME__)) AS t
