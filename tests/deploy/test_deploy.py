"""deploy/ runs as written: each file parses and says what the operator section promises."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text())
    return parser


def test_kubernetes_cronjob_uses_the_image_of_the_dockerfile_and_a_secret():
    docs = list(yaml.safe_load_all((DEPLOY / "k8s-cronjob.yaml").read_text()))
    kinds = {d["kind"]: d for d in docs}
    assert set(kinds) == {"Secret", "CronJob"}
    job = kinds["CronJob"]["spec"]["jobTemplate"]["spec"]
    [container] = job["template"]["spec"]["containers"]
    tag = re.search(r"-t (\S+)", (DEPLOY / "Dockerfile").read_text()).group(1)
    assert container["image"] == tag
    assert container["args"][:2] == ["rescore", "--once"]
    env = {e["name"]: e for e in container["env"]}
    secret = kinds["Secret"]["metadata"]["name"]
    for name in ("NEO4J_USERNAME", "NEO4J_PASSWORD"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == secret
        assert "value" not in env[name]
    rules = {r["action"]: r["onExitCodes"]["values"] for r in job["podFailurePolicy"]["rules"]}
    assert rules == {"Ignore": [75], "FailJob": [78]}
    assert kinds["CronJob"]["spec"]["concurrencyPolicy"] == "Forbid"


def test_dockerfile_is_cpu_only_and_runs_the_command_line():
    lines = [x for x in (DEPLOY / "Dockerfile").read_text().splitlines()
             if x.strip() and not x.lstrip().startswith("#")]
    # continuation lines belong to the instruction before them
    instructions = [x.split()[0] for x in lines if not x.startswith(" ")]
    assert instructions[0] == "FROM"
    assert set(instructions) <= {"FROM", "ARG", "ENV", "RUN", "WORKDIR", "COPY", "USER",
                                 "ENTRYPOINT", "CMD"}
    text = "\n".join(lines)
    assert "download.pytorch.org/whl/cpu" in text
    assert 'ENTRYPOINT ["fraudring"]' in text and "USER fraudring" in text
    for copied in re.findall(r"^COPY (\S+)", text, re.M):
        assert (DEPLOY.parent / copied).exists(), copied


def test_systemd_units_alert_on_failure_and_treat_a_skip_as_success():
    service = _unit("fraudring-rescore.service")
    assert service["Unit"]["OnFailure"] == "fraudring-alert@%n.service"
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["SuccessExitStatus"] == "75"
    assert "rescore --once" in service["Service"]["ExecStart"]
    assert "PASSWORD=" not in (DEPLOY / "fraudring-rescore.service").read_text().split(
        "EnvironmentFile")[1]  # secrets only in the EnvironmentFile
    alert = _unit("fraudring-alert@.service")
    assert "%i" in alert["Service"]["ExecStart"]
    timer = _unit("fraudring-rescore.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Install"]["WantedBy"] == "timers.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_verifies_the_units(tmp_path):
    for name in ("fraudring-rescore.service", "fraudring-rescore.timer",
                 "fraudring-alert@.service"):
        shutil.copy(DEPLOY / name, tmp_path / name)
    proc = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", "fraudring-rescore.service",
         "fraudring-rescore.timer"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    problems = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()
                # the installed paths do not exist on a test machine
                and "is not executable" not in line and "No such file" not in line]
    assert not problems, problems


def test_crontab_has_mailto_reads_the_password_from_a_file_and_valid_schedules():
    text = (DEPLOY / "crontab.example").read_text()
    assert re.search(r"^MAILTO=\S+@\S+$", text, re.M)
    jobs = [x for x in text.splitlines()
            if x.strip() and not x.startswith("#") and not re.match(r"^[A-Z_]+=", x)]
    assert len(jobs) == 2
    field = re.compile(r"^(\*|\d+)(/\d+)?(-\d+)?(,\d+)*$")
    for job in jobs:
        parts = job.split()
        assert all(field.match(p) for p in parts[:5]), job
        command = " ".join(parts[5:])
        assert "%" not in command  # cron turns % into newlines
        assert 'NEO4J_PASSWORD="$(cat /etc/fraudring/neo4j-password)"' in command
        assert "fraudring rescore --once" in command


def test_docker_compose_serves_against_its_neo4j():
    import yaml

    compose = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml")
                             .read_text())
    serve = compose["services"]["serve"]
    assert "fraudring serve" in serve["command"] and "--token-file" in serve["command"]
    assert serve["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert all(p.startswith("127.0.0.1:") for p in serve["ports"])
    assert (Path(__file__).resolve().parents[2] / serve["build"]["dockerfile"]).is_file()
