"""docker/: what can be checked without a Docker engine (none runs here): the compose file
parses, every service it starts is pinned and health-checked, dependencies name real services,
secrets come from docker/.env (declared in .env.example), nothing listens beyond loopback, and
the stixgraph commands it runs exist in this CLI."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

import yaml  # noqa: E402 - the test extra

DOCKER = Path(__file__).resolve().parents[1] / "docker"
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]


def test_services_are_pinned_and_depend_on_real_services():
    for name, svc in SERVICES.items():
        image = svc.get("image", "")
        assert image and ":" in image and not image.endswith(":latest"), name
        for dep in svc.get("depends_on", {}):
            assert dep in SERVICES, (name, dep)
            cond = svc["depends_on"][dep]["condition"]
            if cond == "service_healthy":
                assert "healthcheck" in SERVICES[dep], dep
        if "build" in svc:
            ctx = (DOCKER / svc["build"]["context"]).resolve()
            assert (ctx / svc["build"].get("dockerfile", "Dockerfile")).exists(), name


def test_long_running_services_have_healthchecks_and_loopback_ports():
    for name, svc in SERVICES.items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
        if svc.get("restart") != "no" and name not in ("stixgraph", "taxii-worker"):
            assert "healthcheck" in svc, name
    for vol in COMPOSE.get("volumes", {}):
        assert any(str(m).startswith(vol + ":") for s in SERVICES.values()
                   for m in s.get("volumes", [])), vol


def test_secrets_come_from_the_env_file():
    text = (DOCKER / "compose.yaml").read_text()
    used = set(re.findall(r"\$\{(\w+)", text))
    declared = {ln.split("=", 1)[0] for ln in (DOCKER / ".env.example").read_text().splitlines()
                if ln and not ln.startswith("#")}
    assert used - {"STIXGRAPH_HUNTS"} <= declared
    # no password or secret written in the file: every such key takes a ${...} value
    assert not re.search(r"^\s+\w*(PASSWORD|SECRET)\w*:\s*[^$\s]", text, re.M)


def test_the_stixgraph_commands_it_runs_exist():
    from stixgraph.cli import main

    for name in ("stixgraph-init",):
        cmd = SERVICES[name]["command"]
        args = cmd if isinstance(cmd, list) else shlex.split(cmd)
        args = [a for a in args if not a.startswith("arango://")]
        sub = args[: args.index("--store")] if "--store" in args else args
        r = CliRunner().invoke(main, [*sub, "--help"])
        assert r.exit_code == 0, r.output
        assert "--store" in r.output
