// Range index on a node key (embedded store; re-runs answer "already indexed")
// dialect: falkordb
// template: keyed
CREATE INDEX FOR (n:__LABEL__) ON (n.__KEY__)
