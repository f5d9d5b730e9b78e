// The relationships (both directions) of some nodes of one label, at or before $as_of, at most $limit per node, with the other end's labels and key: one hop of the online scorer's neighbourhood fetch
// template: node
// params: keys:list, types:list, as_of:int, limit:int
UNWIND $keys AS k
MATCH (n:__LABEL__ {__KEY__: k})
CALL {
  WITH n
  MATCH (n)-[r]-(m)
  WHERE type(r) IN $types AND coalesce(r.first_seen, r.created_at) <= $as_of
  RETURN r, m
  LIMIT $limit
}
RETURN k AS key, type(r) AS type, startNode(r) = n AS out, labels(m) AS labels,
       coalesce(m.user_id, m.order_id, m.device_id, m.ip, m.product_id, m.address_id,
                m.payment_id) AS other,
       r.first_seen AS first_seen, r.created_at AS created_at, r.quantity AS quantity,
       r.price AS price
