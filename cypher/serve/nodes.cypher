// Some nodes of one label by key, with the properties export reads, whether they are flagged and their ring (the online scorer's neighbourhood fetch)
// template: node
// params: keys:list
UNWIND $keys AS k
MATCH (n:__LABEL__ {__KEY__: k})
RETURN n.__KEY__ AS __KEY__, __PROPS__, n:Flagged AS _flagged, n.ring_id AS _ring_id
