"""Map validated canonical tables to the property graph (as :class:`GraphFrames`).

Tables hold typed columns (times already epoch ms). Entities that have no table of their own
(devices, IPs, addresses and cards seen only in events and orders) become nodes with
``first_seen`` = their earliest observation; repeated user→device/IP observations fold into one
edge with ``first_seen``, ``last_seen``, ``count`` and the observation ``times`` (the loader needs
those to keep ``count`` right on incremental loads).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graph_build import attributes, schema
from graph_build.frames import GraphFrames

Tables = dict[str, pd.DataFrame]


def _present(frame: pd.DataFrame | None, column: str) -> pd.DataFrame:
    """Rows of ``frame`` where ``column`` exists and is non-null."""
    if frame is None or column not in frame.columns:
        return pd.DataFrame(columns=[column])
    return frame[frame[column].notna()]


def _observations(tables: Tables, column: str) -> pd.DataFrame:
    """(user_id, value, ts) for every event and order that mentions ``column``."""
    parts = []
    events = _present(tables.get("events"), column)
    if len(events):
        parts.append(events[["user_id", column, "ts"]].rename(columns={column: "value"}))
    orders = _present(tables.get("orders"), column)
    if len(orders):
        parts.append(
            orders[["user_id", column, "created_at"]].rename(
                columns={column: "value", "created_at": "ts"}
            )
        )
    if not parts:
        return pd.DataFrame({"user_id": [], "value": [], "ts": []})
    return pd.concat(parts, ignore_index=True)


def _attr_columns(frame: pd.DataFrame | None) -> list[str]:
    """The typed attribute columns (``attr_*``) of a canonical table, in a stable order."""
    if frame is None:
        return []
    return attributes.columns(attributes.kinds_from_columns(frame))


def _entity_nodes(
    tables: Tables, label: str, table: str | None, seen: pd.DataFrame
) -> pd.DataFrame:
    """Nodes of an entity from its own table (if any) plus first sightings in ``seen``.

    ``seen`` has columns ``value`` (the key) and ``ts``.
    """
    spec = schema.node(label)
    first = seen.groupby("value", sort=True)["ts"].min().rename("first_seen").reset_index()
    first = first.rename(columns={"value": spec.key})
    own = tables.get(table) if table else None
    extra = _attr_columns(own)
    if own is not None and len(own):
        attrs = [p for p in spec.properties if p in own.columns and p != "first_seen"]
        own = own[[spec.key, *attrs, *extra]]
        nodes = own.merge(first, on=spec.key, how="outer")
    else:
        nodes = first
    for prop in spec.properties:
        if prop not in nodes.columns:
            nodes[prop] = pd.NA
    for column in extra:  # an own table with no rows: keep its typed (empty) columns
        if column not in nodes.columns:
            nodes[column] = own[column].iloc[:0].reindex(nodes.index)
    return nodes[[spec.key, *spec.properties, *extra]].reset_index(drop=True)


def _aggregate_edges(obs: pd.DataFrame) -> pd.DataFrame:
    """Fold observations (user_id, value, ts) into one row per pair with its sorted times.

    Works on integer codes (factorised keys) and one lexsort, not on strings: at a million
    users this is ~20M observations, where string sorts and group-bys cost minutes and GBs.
    ``times`` holds numpy views into one array (no Python ints until rows are written).
    """
    if obs.empty:
        return pd.DataFrame(
            {"src": [], "dst": [], "first_seen": [], "last_seen": [], "count": [], "times": []}
        )
    src_code, src_names = pd.factorize(obs["user_id"])
    dst_code, dst_names = pd.factorize(obs["value"])
    ts = obs["ts"].to_numpy(dtype=np.int64)
    order = np.lexsort((ts, dst_code, src_code))
    src_code, dst_code, ts = src_code[order], dst_code[order], ts[order]
    # Identical observations (same pair, same time) are one observation.
    keep = np.r_[True, (src_code[1:] != src_code[:-1]) | (dst_code[1:] != dst_code[:-1])
                 | (ts[1:] != ts[:-1])]
    src_code, dst_code, ts = src_code[keep], dst_code[keep], ts[keep]
    starts = np.flatnonzero(
        np.r_[True, (src_code[1:] != src_code[:-1]) | (dst_code[1:] != dst_code[:-1])]
    )
    ends = np.r_[starts[1:], len(ts)]
    times = np.empty(len(starts), dtype=object)
    times[:] = np.split(ts, starts[1:])
    return pd.DataFrame(
        {
            "src": np.asarray(src_names)[src_code[starts]],
            "dst": np.asarray(dst_names)[dst_code[starts]],
            "first_seen": ts[starts],
            "last_seen": ts[ends - 1],
            "count": ends - starts,
            "times": times,
        }
    )


def _order_edges(orders: pd.DataFrame, column: str) -> pd.DataFrame:
    sub = _present(orders, column)
    return pd.DataFrame(
        {
            "src": sub["order_id"].to_numpy(),
            "dst": sub[column].to_numpy(),
            "created_at": sub["created_at"].to_numpy(dtype=np.int64),
        }
    )


def tables_to_frames(tables: Tables,
                     declared: attributes.Declaration | None = None) -> GraphFrames:
    """Derive every node label and relationship type of the schema from canonical tables.

    Args:
        tables: canonical table name -> typed frame (see :mod:`graph_build.validate`); node
            tables may carry typed ``attr_<name>`` columns (the users' own attributes).
        declared: label -> attribute -> kind (``ValidationResult.attributes``); by default
            read from the ``attr_*`` columns' dtypes, which validation fixes per kind.

    Returns:
        The graph; aggregated relationships carry an extra ``times`` column (list of epoch ms);
        node frames carry their ``attr_*`` columns and ``attributes`` their kinds.
    """
    users = tables["users"]
    orders = tables.get("orders", pd.DataFrame(columns=schema.TABLES["orders"].column_names))
    items = tables.get("order_items")
    frames = GraphFrames()

    frames.nodes["User"] = users[["user_id", *schema.NODES["User"].properties,
                                  *_attr_columns(users)]].reset_index(drop=True)
    frames.nodes["Order"] = orders[["order_id", *schema.NODES["Order"].properties,
                                    *_attr_columns(orders)]].reset_index(drop=True)
    products = tables.get("products")
    if products is not None:
        frames.nodes["Product"] = products[["product_id", "category", "price",
                                            *_attr_columns(products)]].reset_index(drop=True)

    device_obs = _observations(tables, "device_id")
    ip_obs = _observations(tables, "ip")
    frames.nodes["Device"] = _entity_nodes(tables, "Device", "devices", device_obs)
    frames.nodes["IP"] = _entity_nodes(tables, "IP", None, ip_obs)
    for label, table, column in (
        ("Address", "addresses", "address_id"),
        ("PaymentMethod", "payments", "payment_id"),
    ):
        seen = _present(orders, column)[[column, "created_at"]].rename(
            columns={column: "value", "created_at": "ts"}
        )
        frames.nodes[label] = _entity_nodes(tables, label, table, seen)

    frames.rels["USED_DEVICE"] = _aggregate_edges(device_obs)
    frames.rels["USED_IP"] = _aggregate_edges(ip_obs)
    frames.rels["PLACED"] = pd.DataFrame(
        {
            "src": orders["user_id"].to_numpy(),
            "dst": orders["order_id"].to_numpy(),
            "created_at": orders["created_at"].to_numpy(dtype=np.int64),
        }
    )
    for rel_type, column in (
        ("FROM_DEVICE", "device_id"),
        ("FROM_IP", "ip"),
        ("SHIPPED_TO", "address_id"),
        ("PAID_WITH", "payment_id"),
    ):
        frames.rels[rel_type] = _order_edges(orders, column)
    if items is not None and len(items):
        when = items.merge(orders[["order_id", "created_at"]], on="order_id", how="left")
        frames.rels["CONTAINS"] = pd.DataFrame(
            {
                "src": when["order_id"].to_numpy(),
                "dst": when["product_id"].to_numpy(),
                "quantity": when["quantity"].to_numpy(),
                "price": when["price"].to_numpy(),
                "created_at": when["created_at"].to_numpy(dtype=np.int64),
            }
        )
    if declared is None:
        declared = {label: attributes.kinds_from_columns(tables[table])
                    for table, label in attributes.TABLE_LABELS.items() if table in tables}
    frames.attributes = {label: dict(kinds) for label, kinds in declared.items() if kinds}
    return frames
