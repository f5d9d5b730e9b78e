// Number of nodes of one label
// template: keyed
MATCH (n:__LABEL__)
RETURN count(n) AS n
