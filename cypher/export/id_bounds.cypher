// Smallest and largest internal node id of one label (embedded store: the id ranges an export pages through)
// dialect: falkordb
// template: node
MATCH (n:__LABEL__)
RETURN min(id(n)) AS lo, max(id(n)) AS hi
