// Keys of the currently flagged nodes of one label (so only flag changes touch labels)
// template: scored
MATCH (n:__LABEL__:Flagged)
RETURN n.__KEY__ AS key
