// Number of relationships of one type
// template: rel
MATCH (:__SRC__)-[r:__TYPE__]->(:__DST__)
RETURN count(r) AS n
