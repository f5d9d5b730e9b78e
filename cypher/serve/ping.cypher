// Whether the store answers: the serving path's liveness check between answers from its cache
RETURN 1 AS ok
