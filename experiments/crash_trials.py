"""Kill -9 trials: no acknowledged write lost, one server per folder, the folder still opens.

    python experiments/crash_trials.py [--trials 24] [--users 1000] [--seed 5]

Each trial runs one kind of write against a real embedded store and kills, with SIGKILL at a
random moment, either the FalkorDB server or the writing client:

* ``build``: ``fraudring build`` of a generated data folder into a fresh store (a subprocess);
  acknowledged = the command exited 0. After the kill a build that was not acknowledged is run
  again, and the graph must then equal the graph of an undisturbed build.
* ``score``: score write-back of every User through the scorer's ``scoring/write_scores``
  statement in batches (a client process that prints each batch the server acknowledged);
  acknowledged = the printed batches.
* ``verdict``: investigators' verdicts, one ``fraudring cypher --write -f
  investigate/set_verdict.cypher`` command each; acknowledged = the command exited 0.

Then the store is opened again (restarting the server when it was killed), and, when the
client was the victim, the server is killed too and restarted, so every acknowledged write has
to come back from disk. Checked: every acknowledged write is there; exactly one server holds
the folder's lock (an AOF-rewrite child of it is not a second server); the folder opens and
takes a write. The table is printed and saved to ``experiments/results/crash_trials.csv``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "graph_build"))  # the canonical dump (a test helper)

RESULTS = ROOT / "experiments" / "results" / "crash_trials.csv"
PHASES = ("build", "score", "verdict")
VERDICTS_PER_TRIAL = 6
SCORE_BATCH = 2  # many small statements: a kill lands inside the write-back
VERDICT_FILE = ROOT / "cypher" / "investigate" / "set_verdict.cypher"
CLI = [sys.executable, "-c", "import sys; from graphgnn.cli import main; sys.exit(main())"]

# The score client: writes every User's score in batches and prints what was acknowledged.
SCORE_CLIENT = r"""
import json, sys
from graph_build import cypher
from graph_build.stores.falkor import FalkorStore
home, run_id, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = FalkorStore(home=home)
keys = sorted(r["k"] for r in store.read("MATCH (u:User) RETURN u.user_id AS k"))
rows = [{"key": k, "score": (i % 997) / 997, "pct": float(i % 100), "reasons": [run_id]}
        for i, k in enumerate(keys)]
print("ready", flush=True)
done = [0]
def acked(n):
    done[0] += n
    print("acked", done[0], flush=True)
store.write_rows(cypher.render("scoring/write_scores", label="User"), rows, batch_size=batch,
                 progress=acked, params={"run_id": run_id, "model_version": "trial",
                                         "scored_at": 1767225600000})
print("done", json.dumps(rows[:1]), flush=True)
"""


def servers_of(home: Path) -> list[int]:
    """Servers of ``home``: processes holding its life lock whose parent does not (a fork of
    the server, its append-only rewrite, shares the lock but is no second server)."""
    from graph_build.stores.server_lock import pids_holding

    pids = set(pids_holding(home / "server.pid"))
    parents = {}
    for pid in pids:
        try:
            parents[pid] = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            parents[pid] = 0
    return sorted(p for p in pids if parents[p] not in pids)


def _normalised(lines: list[str]) -> list[str]:
    """A dump without what differs between two identical builds (ingest bookkeeping)."""
    out = []
    for line in lines:
        if '"IngestRun"' in line:
            continue
        item = json.loads(line[2:])
        item["props"].pop("ingest_seq", None)
        out.append(line[:2] + json.dumps(item, sort_keys=True, default=str))
    return sorted(out)


def _open(home: Path):
    from graph_build.stores.falkor import FalkorStore

    t0 = time.perf_counter()
    store = FalkorStore(home=home)
    return store, time.perf_counter() - t0


def _kill_server(home: Path) -> int | None:
    from graph_build.stores.server_lock import LifeLock

    pid = LifeLock(home / "server.pid").holder().pid
    if pid:
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while LifeLock(home / "server.pid").is_held() and time.monotonic() < deadline:
            time.sleep(0.02)
    return pid


class Trials:
    """Shared inputs: a generated data folder, a built template store, the reference graph."""

    def __init__(self, work: Path, users: int, seed: int) -> None:
        from graph_build.build import build
        from graph_build.generate import generate
        from graph_build.stores.embedded_server import EmbeddedServer
        from store_dump import canonical_dump

        self.work, self.env = work, {**os.environ}
        self.env.pop("NEO4J_URI", None)
        self.data = work / "data"
        generate(self.data, users=users, seed=seed)
        self.template = work / "template"
        store, _ = _open(self.template)
        t0 = time.perf_counter()
        build(self.data, store, log=lambda _m: None)
        self.build_s = time.perf_counter() - t0
        self.reference = _normalised(canonical_dump(store))
        self.users = sorted(r["k"] for r in store.read("MATCH (u:User) RETURN u.user_id AS k"))
        store.close()
        EmbeddedServer(self.template).stop()
        self.durations = {"build": 0.0, "score": 0.0, "verdict": 0.0}

    def fresh(self, name: str, phase: str) -> Path:
        home = self.work / name
        shutil.rmtree(home, ignore_errors=True)
        if phase != "build":
            shutil.copytree(self.template, home)
        return home

    # -- clients ---------------------------------------------------------------------------
    def client(self, phase: str, home: Path, trial: int, rng: random.Random):
        env = {**self.env, "FRAUDRING_HOME": str(home)}
        if phase == "build":
            return [subprocess.Popen([*CLI, "build", "--data", str(self.data), "--store",
                                      "embedded", "--rejects", str(home.parent / "rj.csv")],
                                     env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)]
        if phase == "score":
            return [subprocess.Popen([sys.executable, "-c", SCORE_CLIENT, str(home),
                                      f"run-{trial}", str(SCORE_BATCH)], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
        users = rng.sample(self.users, VERDICTS_PER_TRIAL)
        return [(u, rng.choice(["fraud", "legit", "unsure"])) for u in users]


def _run_verdicts(trials: Trials, home: Path, plan, kill_at: float, victim: str, state: dict):
    """One ``fraudring cypher --write`` per verdict; a timer kills at ``kill_at`` seconds."""
    env = {**trials.env, "FRAUDRING_HOME": str(home)}
    start = time.monotonic()
    acked = []
    for user, verdict in plan:
        proc = subprocess.Popen(
            [*CLI, "cypher", "--write", "-f", str(VERDICT_FILE), "--param",
             f"user_id={user}", "--param", f"verdict={verdict}", "--param", "by=crash-trial",
             "--param", "note=trial", "--store", "embedded"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        while proc.poll() is None:
            if not state.get("killed") and time.monotonic() - start >= kill_at:
                state["killed"] = time.monotonic() - start
                if victim == "server":
                    _kill_server(home)
                else:
                    proc.kill()
            time.sleep(0.005)
        if proc.returncode == 0:
            acked.append((user, verdict))
        elif state.get("killed"):
            break
    return acked


def run_trial(trials: Trials, trial: int, phase: str, victim: str,
              rng: random.Random) -> dict:
    """One trial; returns its row of the table."""
    from graph_build.stores.embedded_server import EmbeddedServer
    from store_dump import canonical_dump

    home = trials.fresh(f"t{trial}", phase)
    EmbeddedServer(home).start()
    state: dict = {}
    lost: list[str] = []
    acked_n = 0
    if phase == "verdict":
        kill_at = rng.uniform(0.2, max(trials.durations["verdict"], 1.0))
        acked = _run_verdicts(trials, home, trials.client(phase, home, trial, rng), kill_at,
                              victim, state)
        acked_n = len(acked)
    else:
        (proc,) = trials.client(phase, home, trial, rng)
        start = time.monotonic()
        if phase == "score":  # count from when the client starts writing
            proc.stdout.readline()
            start = time.monotonic()
        kill_at = rng.uniform(0.0, max(trials.durations[phase], 0.2))
        while proc.poll() is None and time.monotonic() - start < kill_at:
            time.sleep(0.005)
        if proc.poll() is None:
            state["killed"] = time.monotonic() - start
            _kill_server(home) if victim == "server" else proc.kill()
        out, _err = proc.communicate(timeout=600)
        if phase == "build":
            acked_n = int(proc.returncode == 0)
        else:
            counts = [int(x.split()[1]) for x in out.splitlines() if x.startswith("acked")]
            acked_n = counts[-1] if counts else 0
    servers_during = len(servers_of(home))
    store, restart_s = _open(home)
    for check in ("reopened", "after a kill -9 of the server"):
        if phase == "build" and acked_n and _normalised(canonical_dump(store)) != trials.reference:
            lost.append(f"{check}: the acknowledged build differs from the reference")
        elif phase == "score":
            got = {r["k"]: r["s"] for r in store.read(
                "MATCH (u:User) WHERE u.score_run = $run RETURN u.user_id AS k, "
                "u.anomaly_score AS s", {"run": f"run-{trial}"})}
            keys = sorted(trials.users)[:acked_n]
            lost += [f"{check}: score of {k}" for k in keys if k not in got]
        elif phase == "verdict":
            for user, verdict in acked:
                rows = store.read("MATCH (u:User {user_id: $u}) RETURN u.verdict AS v",
                                  {"u": user})
                if not rows or rows[0]["v"] != verdict:
                    lost.append(f"{check}: verdict {verdict} of {user}")
        if check == "reopened":  # every acknowledged write must come back from disk too
            store.close()
            _kill_server(home)
            store, _ = _open(home)
    servers_after = servers_of(home)
    if phase == "build" and not acked_n:  # a killed build, run again, gives the same graph
        from graph_build.build import build

        build(trials.data, store, log=lambda _m: None)
        if _normalised(canonical_dump(store)) != trials.reference:
            lost.append("the re-run build differs from the reference")
    store.write("CREATE (:IngestRun {name: 'crash-trial-probe'})")
    opens = bool(store.read("MATCH (n:IngestRun {name: 'crash-trial-probe'}) RETURN 1 AS x"))
    store.close()
    EmbeddedServer(home).stop()
    left = servers_of(home)
    shutil.rmtree(home, ignore_errors=True)
    ok = not lost and len(servers_after) == 1 and opens and not left
    return {"trial": trial, "phase": phase, "killed": victim if "killed" in state else "none",
            "at_s": f"{state.get('killed', float('nan')):.2f}", "acked": acked_n,
            "lost": len(lost), "servers_during": servers_during,
            "servers_after": len(servers_after), "restart_s": f"{restart_s:.2f}",
            "opens": opens, "ok": ok, "detail": "; ".join(lost)[:200]}


def calibrate(trials: Trials) -> None:
    """Undisturbed runs of each phase: how long a window to draw the kill moment from (and
    proof that each client, undisturbed, gets every write acknowledged)."""
    from graph_build.stores.embedded_server import EmbeddedServer

    for phase in PHASES:
        home = trials.fresh(f"calibrate-{phase}", phase)
        EmbeddedServer(home).start()
        t0 = time.monotonic()
        if phase == "verdict":
            plan = trials.client(phase, home, 0, random.Random(0))
            acked = _run_verdicts(trials, home, plan, 1e9, "server", {})
            assert len(acked) == len(plan), "a verdict command failed undisturbed"
        else:
            (proc,) = trials.client(phase, home, 0, random.Random(0))
            if phase == "score":
                proc.stdout.readline()
                t0 = time.monotonic()
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, f"the {phase} client failed undisturbed: {err}"
        trials.durations[phase] = time.monotonic() - t0
        EmbeddedServer(home).stop()
        shutil.rmtree(home, ignore_errors=True)


def run_trials(count: int = 24, users: int = 1000, seed: int = 5,
               work: Path | None = None) -> list[dict]:
    """Run ``count`` trials (phases and victims in turn, kill moments drawn); return the rows."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="crash_trials_", dir=work) as tmp:
        trials = Trials(Path(tmp), users, seed)
        calibrate(trials)
        rows = []
        for i in range(count):
            phase = PHASES[i % len(PHASES)]
            victim = ("server", "client")[(i // len(PHASES)) % 2]
            rows.append(run_trial(trials, i, phase, victim, rng))
        return rows


def print_rows(rows: list[dict]) -> None:
    columns = [c for c in rows[0] if c != "detail"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in columns)
              + (f"  {r['detail']}" if r["detail"] else ""))


def save(rows: list[dict], path: Path = RESULTS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    rows = run_trials(args.trials, args.users, args.seed)
    print_rows(rows)
    save(rows)
    bad = [r for r in rows if not r["ok"]]
    killed = sum(r["killed"] != "none" for r in rows)
    print(f"\n{len(rows) - len(bad)}/{len(rows)} trials ok ({killed} with a kill -9; "
          f"{sum(r['acked'] for r in rows)} acknowledged writes, "
          f"{sum(r['lost'] for r in rows)} lost); saved {RESULTS}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
