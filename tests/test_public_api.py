"""The public Python API as README shows it, and the architecture rules that keep it clean."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("graph_build", "graphgnn")
MAX_MODULE_LINES = 300


def test_graph_build_exports_the_documented_names():
    import graph_build

    for name in ("read_frames", "build", "export_frames", "open_store", "generate"):
        assert callable(getattr(graph_build, name)), name


def test_notebook_example(generated_dir, trained_ckpt, built_store):
    from graph_build import export_frames, read_frames
    from graphgnn import Detector

    det = Detector.load(trained_ckpt)
    frames = read_frames(generated_dir)
    scores = det.score(frames)
    assert list(scores.columns) == ["label", "key", "anomaly_score", "anomaly_pct"]
    users = scores[scores.label == "User"]
    assert len(users) == frames.node_count("User")
    assert users.anomaly_score.between(0, 1).all() and users.anomaly_pct.between(0, 100).all()
    # The same graph read back from a store scores the same.
    from_store = det.score(export_frames(built_store)).set_index(["label", "key"])
    joined = scores.set_index(["label", "key"]).join(from_store, rsuffix="_store")
    assert (joined.anomaly_score - joined.anomaly_score_store).abs().max() < 1e-5

    top = users.nlargest(5, "anomaly_score").key.tolist()
    why = det.explain(frames, keys=top)
    assert sorted(why.key) == sorted(top)
    assert all(isinstance(r, list) and r for r in why.reasons)
    assert len(Detector.flag(scores, 0.05)) > 0


def _imports(path: Path) -> set[str]:
    """Modules a file imports (absolute names; relative imports resolved)."""
    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base]) if base else ".".join(parts)
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def _modules():
    for package in PACKAGES:
        yield from (ROOT / package).rglob("*.py")


def test_graph_build_never_imports_graphgnn():
    bad = [str(p.relative_to(ROOT)) for p in (ROOT / "graph_build").rglob("*.py")
           if any(m == "graphgnn" or m.startswith("graphgnn.") for m in _imports(p))]
    assert not bad


def test_scores_never_imports_torch():
    # A fresh interpreter: importing every module of graphgnn.scores loads no torch.
    names = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts)
                   for p in (ROOT / "graphgnn" / "scores").glob("*.py"))
    code = ("import importlib, sys\n"
            f"for n in {names!r}: importlib.import_module(n.removesuffix('.__init__'))\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.strip()
    assert out == "False"


def test_import_graph_has_no_cycle():
    import networkx as nx

    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
               for p in _modules()}
    graph = nx.DiGraph()
    for name, path in modules.items():
        for imported in _imports(path):
            # A module importing its own package, or a package's __init__ re-exporting its
            # submodules, is not a dependency between jobs.
            own = name.startswith(imported + ".") or (
                imported.startswith(name + ".") and path.name == "__init__.py")
            if imported in modules and imported != name and not own:
                graph.add_edge(name, imported)
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, cycles[:5]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_300_lines(package):
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / package).rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, long
