"""The schema as data: canonical input tables and the property graph derived from them.

Everything that becomes a label, a relationship type or a property name in Cypher comes from
here (the whitelist) and never from input data: labels and types cannot be query parameters, so
they are spliced into query text, and only these constants may be spliced.

Tables are declared once (key, columns, time columns, foreign keys); node labels and
relationship types are derived from them (relbench's "schema as data").
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The shapes of the schema live in schema_types; the schema itself (every name) lives here.
from graph_build.schema_types import (  # noqa: F401 - part of this module's interface
    Column,
    ColumnType,
    ForeignKey,
    NodeSpec,
    RelSpec,
    TableSpec,
)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "users",
            (
                Column("user_id", required=True),
                Column("created_at", "time", required=True),
                Column("country"),
                Column("email_domain"),
            ),
            key=("user_id",),
        ),
        TableSpec(
            "devices",
            (Column("device_id", required=True), Column("os"), Column("browser")),
            key=("device_id",),
            optional=True,
        ),
        TableSpec(
            "products",
            (
                Column("product_id", required=True),
                Column("category"),
                Column("price", "float", min=0),
            ),
            key=("product_id",),
            optional=True,
        ),
        TableSpec(
            "addresses",
            (Column("address_id", required=True), Column("country"), Column("postcode")),
            key=("address_id",),
            optional=True,
        ),
        TableSpec(
            "payments",
            (
                Column("payment_id", required=True),
                Column("kind"),
                Column("bin"),
                Column("issuer_country"),
            ),
            key=("payment_id",),
            optional=True,
        ),
        TableSpec(
            "events",
            (
                Column("user_id", required=True),
                Column("ts", "time", required=True),
                Column("device_id"),
                Column("ip"),
                Column("event_type"),
            ),
            foreign_keys=(ForeignKey("user_id", "users"),),
            optional=True,
        ),
        TableSpec(
            "orders",
            (
                Column("order_id", required=True),
                Column("user_id", required=True),
                Column("created_at", "time", required=True),
                Column("amount", "float", required=True, min=0),
                Column("status"),
                Column("device_id"),
                Column("ip"),
                Column("address_id"),
                Column("payment_id"),
            ),
            key=("order_id",),
            foreign_keys=(
                ForeignKey("user_id", "users"),
                ForeignKey("address_id", "addresses", required=False),
                ForeignKey("payment_id", "payments", required=False),
            ),
        ),
        TableSpec(
            "order_items",
            (
                Column("order_id", required=True),
                Column("product_id", required=True),
                Column("quantity", "int", required=True, min=1),
                Column("price", "float", min=0),
            ),
            key=("order_id", "product_id"),
            foreign_keys=(ForeignKey("order_id", "orders"), ForeignKey("product_id", "products")),
            optional=True,
        ),
        TableSpec(
            "labels",
            (
                Column("entity", required=True),
                Column("id", required=True),
                Column("is_fraud", "bool", required=True),
                Column("labeled_at", "time"),
            ),
            key=("entity", "id"),
            optional=True,
        ),
    )
}

# Tables in dependency order (referenced tables first) for validation and loading.
TABLE_ORDER: tuple[str, ...] = (
    "users",
    "devices",
    "products",
    "addresses",
    "payments",
    "events",
    "orders",
    "order_items",
    "labels",
)


NODES: dict[str, NodeSpec] = {
    n.label: n
    for n in (
        NodeSpec("User", "user_id", ("created_at", "country", "email_domain"), "created_at", True),
        NodeSpec("Device", "device_id", ("first_seen", "os", "browser"), "first_seen", True),
        NodeSpec("IP", "ip", ("first_seen",), "first_seen", True),
        NodeSpec("Product", "product_id", ("category", "price")),
        NodeSpec(
            "Order",
            "order_id",
            ("created_at", "amount", "status"),
            "created_at",
            True,
        ),
        NodeSpec("Address", "address_id", ("first_seen", "country", "postcode"), "first_seen"),
        NodeSpec(
            "PaymentMethod",
            "payment_id",
            ("first_seen", "kind", "bin", "issuer_country"),
            "first_seen",
        ),
    )
}

AGGREGATE_PROPS = ("first_seen", "last_seen", "count")

# Graph properties holding floating-point numbers (from the tables' float columns). Stores that
# return them as text in their fast read path cast these.
FLOAT_PROPERTIES: tuple[str, ...] = tuple(sorted({
    c.name for t in TABLES.values() for c in t.columns if c.type == "float"}))

RELATIONSHIPS: dict[str, RelSpec] = {
    r.type: r
    for r in (
        RelSpec("USED_DEVICE", "User", "Device", AGGREGATE_PROPS, True, "first_seen"),
        RelSpec("USED_IP", "User", "IP", AGGREGATE_PROPS, True, "first_seen"),
        RelSpec("PLACED", "User", "Order", ("created_at",), False, "created_at"),
        RelSpec("CONTAINS", "Order", "Product", ("quantity", "price", "created_at"), False,
                "created_at"),
        RelSpec("FROM_DEVICE", "Order", "Device", ("created_at",), False, "created_at"),
        RelSpec("FROM_IP", "Order", "IP", ("created_at",), False, "created_at"),
        RelSpec("SHIPPED_TO", "Order", "Address", ("created_at",), False, "created_at"),
        RelSpec("PAID_WITH", "Order", "PaymentMethod", ("created_at",), False, "created_at"),
    )
}

# Properties written by scoring and rescoring (DESIGN §3), declared for the Cypher lint.
SCORING_PROPERTIES = (
    "anomaly_score", "anomaly_pct", "scored_at", "model_version", "score_run", "reasons",
    "ring_id", "size", "score", "first_seen", "last_seen", "detected_at", "closed_at",
    "run_id", "started_at", "finished_at", "status", "nodes_scored", "as_of", "watermark",
    "mode", "verdict", "verdict_source", "verdict_at", "owner", "expires_at", "name",
    "flagged", "rings", "error", "flagged_since", "prev_size", "grown_at", "shared",
    "updated_at", "acquired_at", "touched_at", "is_fraud", "labeled_at",
    "attributes_json",
    # investigators' verdicts, ring case status and the (:Verdict) audit trail
    "verdict_by", "verdict_note", "case_status", "case_status_at", "case_status_by",
    "entity", "entity_id", "previous", "by", "note", "at",
    # change tracking by ingestion, the rescoring lease, meaning changes, alerts, drift
    "ingest_seq", "times", "seq", "last", "host", "pid", "fence", "heartbeat_at", "reason",
    "settings", "reference", "alerted_new_at", "alerted_size", "alerted_score_at",
    "rings_new", "rings_grown", "rings_closed", "drift_alert",
)

# Labels and types written by scoring (DESIGN §3); part of the whitelist too.
SCORING_LABELS = ("Flagged", "FraudRing", "ScoringRun", "RescoreLock", "Verdict")
SCORING_RELATIONSHIPS = ("MEMBER_OF",)
# Labels the build writes about the graph itself: the declared attributes' kinds
# (graph_build.attributes), one node keyed by name.
# IngestRun: one node per build (its ingest sequence number) plus the sequence counter.
META_LABELS = ("GraphSchema", "IngestRun")
SCORED_LABELS: tuple[str, ...] = tuple(n.label for n in NODES.values() if n.scored)

# Every label with a unique key: graph nodes plus the ones scoring writes.
KEYED_LABELS: dict[str, str] = {
    **{n.label: n.key for n in NODES.values()},
    "FraudRing": "ring_id",
    "ScoringRun": "run_id",
    "RescoreLock": "name",
    "GraphSchema": "name",
    "IngestRun": "name",
}

# Entities that can carry investigator verdicts / ground-truth labels.
LABELLED_ENTITIES = {"user": "User", "order": "Order"}


def node(label: str) -> NodeSpec:
    """Return the spec of a whitelisted node label, or raise ``KeyError``."""
    if label not in NODES:
        raise KeyError(f"{label!r} is not a node label of the schema")
    return NODES[label]


def rel(rel_type: str) -> RelSpec:
    """Return the spec of a whitelisted relationship type, or raise ``KeyError``."""
    if rel_type not in RELATIONSHIPS:
        raise KeyError(f"{rel_type!r} is not a relationship type of the schema")
    return RELATIONSHIPS[rel_type]


def is_whitelisted_identifier(name: str) -> bool:
    """True if ``name`` may be spliced into Cypher text as a label or relationship type."""
    return (
        name in NODES
        or name in RELATIONSHIPS
        or name in SCORING_LABELS
        or name in SCORING_RELATIONSHIPS
        or name in META_LABELS
    )


@dataclass
class SchemaSummary:
    """A JSON-able description of the schema, stored in checkpoints so scoring never guesses."""

    nodes: dict[str, list[str]] = field(default_factory=dict)
    relationships: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def current(cls) -> SchemaSummary:
        return cls(
            nodes={n.label: [n.key, *n.properties] for n in NODES.values()},
            relationships={r.type: [r.source, r.target] for r in RELATIONSHIPS.values()},
        )
