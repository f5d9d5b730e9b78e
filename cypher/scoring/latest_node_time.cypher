// The latest time of one label's nodes (the default as-of is the latest event in the graph)
// template: node
MATCH (n:__LABEL__)
RETURN max(n.__TIME__) AS t
