// Uniqueness constraint on a node key (Neo4j)
// dialect: neo4j
// template: keyed
CREATE CONSTRAINT __LABEL___key IF NOT EXISTS FOR (n:__LABEL__) REQUIRE n.__KEY__ IS UNIQUE
