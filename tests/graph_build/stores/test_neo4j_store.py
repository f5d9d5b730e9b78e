"""The Neo4j store: driver plumbing with a stand-in driver, and a real server when there is one.

The ``neo4j``-marked tests run against a real Neo4j when ``NEO4J_URI`` is set, e.g. with the
repository's docker-compose.yml::

    docker compose up -d
    NEO4J_URI=bolt://localhost:7687 NEO4J_PASSWORD=fraudring-dev-pass pytest -m neo4j

They run only on a database that is empty at their start and delete only the project's labels
afterwards (``neo4j_scratch``): they never delete what they did not write.
"""

from __future__ import annotations

import contextlib
import os
from types import SimpleNamespace

import pytest

from graph_build import cypher, schema
from graph_build.errors import ConfigError, StoreError
from graph_build.stores import open_store
from graph_build.stores.neo4j_store import COUNTERS, Neo4jStore, redact
from neo4j_scratch import cleanup_statements, remove_project_nodes, scratch_neo4j

# -- without a server ------------------------------------------------------------------------


def test_open_store_rejects_unknown_spec():
    with pytest.raises(ConfigError) as info:
        open_store("http://x")
    assert "neo4j+s://" in info.value.hint and "embedded" in info.value.hint


def test_unreachable_server_is_a_clear_store_error():
    with pytest.raises(StoreError) as info:
        Neo4jStore("bolt://127.0.0.1:1", password="not-a-secret", connection_timeout=2)
    assert "cannot reach Neo4j at bolt://127.0.0.1:1" in str(info.value)
    assert info.value.hint and "running" in info.value.hint
    assert info.value.__cause__ is not None


def test_open_store_uses_neo4j_uri_from_env(monkeypatch):
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:1")
    with pytest.raises(StoreError, match="cannot reach Neo4j"):
        open_store()


def test_credentials_never_appear_in_messages():
    uri = "neo4j+s://alice:hunter2-secret@127.0.0.1:1/?policy=x"
    assert redact(uri) == "neo4j+s://127.0.0.1:1/"
    with pytest.raises(StoreError) as info:
        Neo4jStore(uri, connection_timeout=2)
    text = f"{info.value} {info.value.hint}"
    assert "hunter2" not in text and "alice" not in text


class _Record(dict):
    def data(self):
        return dict(self)


class _FakeDriver:
    """Records every execute_query call; answers from a list of (records, counters)."""

    def __init__(self, uri, auth=None, **config):
        self.uri, self.auth, self.config = uri, auth, config
        self.calls: list[tuple[str, dict, str, object]] = []
        self.answers: list[tuple[list[dict], dict]] = []
        self.closed = False

    def verify_connectivity(self):
        pass

    def execute_query(self, query, parameters=None, routing_=None, database_=None, **_):
        self.calls.append((query, dict(parameters or {}), database_, routing_))
        records, counters = self.answers.pop(0) if self.answers else ([], {})
        return SimpleNamespace(
            records=[_Record(r) for r in records],
            summary=SimpleNamespace(
                counters=SimpleNamespace(**{**dict.fromkeys(COUNTERS, 0), **counters})
            ),
        )

    def close(self):
        self.closed = True


@pytest.fixture()
def fake(monkeypatch):
    import neo4j

    made: list[_FakeDriver] = []

    def driver(uri, auth=None, **config):
        made.append(_FakeDriver(uri, auth, **config))
        return made[-1]

    monkeypatch.setattr(neo4j.GraphDatabase, "driver", driver)
    for var in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NEO4J_URI", "neo4j+s://db.example:7687")
    monkeypatch.setenv("NEO4J_PASSWORD", "pw")
    store = Neo4jStore()
    store._driver.calls.clear()  # the connection check
    return store


def test_settings_come_from_env(fake):
    import neo4j

    assert fake._driver.uri == "neo4j+s://db.example:7687"
    assert fake._driver.auth == ("neo4j", "pw")
    # encryption comes from the scheme alone; notifications are off (see quiet_notifications)
    assert fake._driver.config == {"notifications_min_severity": "OFF"}
    assert fake.database == "neo4j"
    assert fake.location == "neo4j+s://db.example:7687 (database neo4j)"
    fake.read("RETURN 1 AS x")
    (_, _, database, routing) = fake._driver.calls[-1]
    assert database == "neo4j" and routing == neo4j.RoutingControl.READ


def test_userinfo_in_uri_becomes_credentials(fake):
    store = Neo4jStore("bolt://bob:s%40cret@host:7687", database="fraud")
    assert store._driver.uri == "bolt://host:7687"
    assert store._driver.auth == ("bob", "s@cret")
    assert store.database == "fraud"


def test_read_write_and_counters(fake):
    import neo4j

    fake._driver.answers.append(([{"a": 1}, {"a": 2}], {}))
    assert fake.read("MATCH (n) RETURN n.a AS a") == [{"a": 1}, {"a": 2}]
    fake._driver.answers.append(([], {"nodes_created": 3, "properties_set": 6}))
    counters = fake.write("CREATE ()")
    assert set(counters) == set(COUNTERS)
    assert counters["nodes_created"] == 3 and counters["properties_set"] == 6
    assert fake._driver.calls[-1][3] == neo4j.RoutingControl.WRITE


def test_write_rows_batches_and_reports_progress(fake):
    rows = [{"key": str(i), "props": {}} for i in range(25)]
    seen: list[int] = []
    sent = fake.write_rows("UNWIND $rows AS row RETURN row", rows, batch_size=10,
                           progress=seen.append, params={"extra": 1})
    assert sent == 25 and seen == [10, 10, 5]
    batches = [params["rows"] for _, params, _, _ in fake._driver.calls]
    assert [len(b) for b in batches] == [10, 10, 5]
    assert all(params["extra"] == 1 for _, params, _, _ in fake._driver.calls)


def test_read_pages_until_a_short_page(fake):
    fake._driver.answers += [([{"i": 0}, {"i": 1}], {}), ([{"i": 2}, {"i": 3}], {}),
                             ([{"i": 4}], {})]
    pages = list(fake.read_pages("MATCH (n) RETURN n SKIP $skip LIMIT $limit", page_size=2))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [(c[1]["skip"], c[1]["limit"]) for c in fake._driver.calls] == [(0, 2), (2, 2), (4, 2)]


def test_ensure_schema_constrains_every_key(fake):
    fake.ensure_schema()
    texts = [c[0] for c in fake._driver.calls]
    assert len(texts) == len(schema.KEYED_LABELS)
    for label, key in schema.KEYED_LABELS.items():
        assert any(f"(n:{label})" in t and f"n.{key} IS UNIQUE" in t for t in texts)


def test_clear_loops_until_a_short_batch(fake):
    from graph_build.stores import neo4j_store

    full = {"nodes_deleted": neo4j_store.CLEAR_BATCH}
    fake._driver.answers += [([], full), ([], full), ([], {"nodes_deleted": 7})]
    fake.clear()
    assert len(fake._driver.calls) == 3
    assert all(c[1] == {"batch": neo4j_store.CLEAR_BATCH} for c in fake._driver.calls)


def test_server_errors_become_store_errors(fake):
    from neo4j.exceptions import ClientError

    def boom(*_a, **_k):
        raise ClientError("Invalid input 'RETRN'")

    fake._driver.execute_query = boom
    with pytest.raises(StoreError, match="Neo4j refused a statement") as info:
        fake.read("RETRN 1")
    assert isinstance(info.value.__cause__, ClientError)


# -- against a real Neo4j ------------------------------------------------------------------

@pytest.fixture(scope="module")
def real():
    with scratch_neo4j() as store:
        yield store


def _user_count(store) -> int:
    return store.read(cypher.render("stats/count_nodes", label="User"))[0]["n"]


@pytest.mark.neo4j
@pytest.mark.skipif(not os.environ.get("NEO4J_URI"),
                    reason="set NEO4J_URI to run against a real Neo4j")
def test_real_neo4j_round_trip(real):
    real.ensure_schema()
    real.ensure_schema()  # idempotent
    constraints = real.read("SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type")
    for label, key in schema.KEYED_LABELS.items():
        assert any(c["labelsOrTypes"] == [label] and c["properties"] == [key]
                   and "UNIQUE" in c["type"] for c in constraints), (label, constraints)

    merge = cypher.render("build/merge_nodes", label="User")
    rows = [{"key": f"u{i}", "props": {"created_at": 1_700_000_000_000 + i, "country": "FR"}}
            for i in range(5)]
    progress: list[int] = []
    assert real.write_rows(merge, rows, batch_size=2, progress=progress.append) == 5
    assert progress == [2, 2, 1]
    assert _user_count(real) == 5
    counters = real.write(merge, {"rows": rows})
    assert counters["nodes_created"] == 0
    assert real.write_rows(merge, rows) == 5
    assert _user_count(real) == 5  # MERGE on the key: a re-run adds nothing

    export = cypher.render("export/nodes", label="User")
    pages = list(real.read_pages(export, {"as_of": None, "since": None}, page_size=2))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(r["user_id"] for p in pages for r in p) == [f"u{i}" for i in range(5)]

    remove_project_nodes(real)
    assert _user_count(real) == 0


def test_test_cleanup_never_touches_labels_it_did_not_write():
    statements = cleanup_statements()
    assert statements and all(s.startswith("MATCH (n:") for s in statements)
    assert not any(":Keep" in s or ":Account" in s or "MATCH (n)" in s for s in statements)


def test_an_unknown_store_spec_is_echoed_without_its_password():
    with pytest.raises(ConfigError) as info:
        open_store("bolt:/alice:hunter2@localhost")  # a typo'd scheme
    assert "hunter2" not in str(info.value)
    with pytest.raises(ConfigError) as info:
        open_store("htp://alice:hunter2@localhost:7687")
    assert "hunter2" not in str(info.value) and "localhost" in str(info.value)


def test_a_bad_port_is_a_clear_error_without_the_password():
    with pytest.raises(StoreError) as info:
        Neo4jStore("bolt://u:pw-secret@127.0.0.1:notaport", connection_timeout=1)
    assert "pw-secret" not in f"{info.value} {info.value.hint}"


def test_tls_to_a_server_without_tls_says_tls():
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def answer_in_plain_text():
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
                conn.close()

    threading.Thread(target=answer_in_plain_text, daemon=True).start()
    try:
        with pytest.raises(StoreError) as info:
            Neo4jStore(f"neo4j+s://127.0.0.1:{port}", password="x", connection_timeout=2,
                       max_transaction_retry_time=0)
        assert "TLS" in info.value.hint and "neo4j://" in info.value.hint
    finally:
        server.close()


def test_driver_notifications_and_logging_are_quiet(fake):
    import logging

    assert fake._driver.config["notifications_min_severity"] == "OFF"
    assert logging.getLogger("neo4j").handlers and not logging.getLogger("neo4j").propagate
