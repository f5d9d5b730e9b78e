"""One order (or user) from a request -> canonical tables -> the build's validation, mapping
and MERGE statements. Nothing here writes Cypher of its own.

The hypothetical path (score without writing) uses the same mapping
(:func:`graph_build.to_graph.tables_to_frames`) on the request's typed one-row tables, so a
scored hypothetical and the same order once written are the same graph.
"""

from __future__ import annotations

import pandas as pd

from graph_build.ingest import begin_ingest, finish_ingest
from graph_build.write_plan import write_plan
from graph_build.errors import ValidationError
from graph_build.frames import GraphFrames
from graph_build.stores.base import GraphStore
from graph_build.tables import LINE, RawTable
from graph_build.to_graph import tables_to_frames
from graph_build.validate import validate_tables
from graphgnn.api.schemas import OrderRequest, UserAttributes

# Tables a request never carries; the build requires them of a data folder, not of one order.
_NOT_SENT = {"events.csv", "products.csv"}


def user_row(user_id: str, attrs: UserAttributes | None, existing: dict | None,
             default_created: int) -> dict:
    """The users-table row: the stored user's, else the request's attributes (a new account
    without ``created_at`` is taken as created at checkout)."""
    if existing is not None:
        return {"user_id": user_id, "created_at": existing.get("created_at")}
    a = attrs or UserAttributes()
    return {"user_id": user_id,
            "created_at": a.created_at if a.created_at is not None else default_created,
            "country": a.country, "email_domain": a.email_domain}


def order_tables(body: OrderRequest, user: dict) -> dict[str, list[dict]]:
    """The canonical tables (as rows) of one order request."""
    order = {c: getattr(body, c) for c in ("order_id", "user_id", "created_at", "amount",
                                           "status", "device_id", "ip", "address_id",
                                           "payment_id")}
    items = [{"order_id": body.order_id, "product_id": i.product_id, "quantity": i.quantity,
              "price": i.price} for i in body.items]
    products = [{"product_id": p} for p in dict.fromkeys(i.product_id for i in body.items)]
    tables = {"users": [user], "orders": [order]}
    if items:
        tables |= {"order_items": items, "products": products}
    return tables


def _typed(rows: list[dict], name: str) -> pd.DataFrame:
    from graph_build import schema

    spec = schema.TABLES[name]
    frame = pd.DataFrame.from_records(rows)
    for col in spec.columns:
        if col.name not in frame:
            frame[col.name] = None
        kind = {"time": "Int64", "int": "Int64", "float": "Float64", "bool": "boolean"}.get(
            col.type, "string")
        frame[col.name] = frame[col.name].astype(kind)
    return frame[list(spec.column_names)]


def hypothetical_frames(tables: dict[str, list[dict]]) -> GraphFrames:
    """The graph the rows would add, by the build's own mapping (already validated rows)."""
    return tables_to_frames({name: _typed(rows, name) for name, rows in tables.items()})


def _raw(rows: list[dict], name: str) -> RawTable:
    frame = pd.DataFrame.from_records(rows).astype(object)
    frame = frame.where(frame.notna(), None).map(lambda v: None if v is None else str(v))
    frame[LINE] = range(2, len(frame) + 2)
    return RawTable(name, f"request:{name}", frame.astype({c: "string" for c in frame
                                                          if c != LINE}))


def write_tables(store: GraphStore, tables: dict[str, list[dict]]) -> int:
    """Validate the rows as the build does and merge them with the build's statements.

    Returns:
        The ingest sequence number the write was recorded under (rescoring picks it up).

    Raises:
        ValidationError: a row the build would reject (answered 422 with its problems).
    """
    raw = {name: _raw(rows, name) for name, rows in tables.items()}
    result = validate_tables(raw)
    problems = [p for p in result.problems
                if not (p.row is None and p.file in _NOT_SENT)]
    if problems:
        raise ValidationError("the order was rejected by the build's validation: "
                              + "; ".join(str(p) for p in problems[:5]), problems)
    frames = tables_to_frames(result.tables)
    seq = begin_ingest(store)
    for _what, query, frame, make_rows in write_plan(frames, None):
        store.write_rows(query, make_rows(frame), params={"seq": seq})
    finish_ingest(store, seq)
    return seq
