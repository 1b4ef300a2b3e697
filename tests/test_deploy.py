"""deploy/: the Kubernetes manifests validate offline against the API schemas, and the image,
compose file and manifests agree with what `advisor serve` actually does."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import redis
import yaml

from bot.bench.processes import free_port
from bot.loopback.slack_api import FakeSlackAPI
from bot.settings import Settings
from tests.conftest import ROOT
from tests.serve import advisor_http

DEPLOY = ROOT / "deploy"
K8S_VERSION = "1.30.0"


def _documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def _kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in _documents() if doc["kind"] == kind]


def _advisor_deployment() -> dict[str, Any]:
    return next(d for d in _kind("Deployment") if d["metadata"]["name"] == "framework-advisor")


@pytest.mark.parametrize(
    ("name", "doc"), _documents(), ids=lambda v: v if isinstance(v, str) else v["kind"]
)
def test_manifest_is_valid_kubernetes(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_every_kind_the_issue_asks_for_is_there() -> None:
    kinds = {doc["kind"] for _, doc in _documents()}
    assert kinds >= {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Secret",
    }
    assert len(_kind("Deployment")) == 2  # the advisor and Redis


def test_probes_limits_and_security_of_the_advisor() -> None:
    pod = _advisor_deployment()["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["serve", "--http"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["limits"]["memory"]
    assert container["resources"]["limits"]["cpu"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ADVISOR_STORE"].startswith("redis://advisor-redis:6379/")


def test_the_pieces_point_at_each_other() -> None:
    labels = _advisor_deployment()["spec"]["template"]["metadata"]["labels"]
    (service,) = [s for s in _kind("Service") if s["metadata"]["name"] == "framework-advisor"]
    assert service["spec"]["selector"].items() <= labels.items()
    (pdb,) = _kind("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (hpa,) = _kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "framework-advisor"
    (secret,) = _kind("Secret")
    assert set(secret["stringData"]) == {
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "ADVISOR_HASH_SALT",
    }
    container = _advisor_deployment()["spec"]["template"]["spec"]["containers"][0]
    assert container["envFrom"][0]["secretRef"]["name"] == secret["metadata"]["name"]
    # Every variable the manifests set is one the advisor reads: no typo goes unnoticed.
    names = set(secret["stringData"]) | {e["name"] for e in container["env"]}
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    names |= set(compose["services"]["advisor"]["environment"])
    read = {field.alias for field in Settings.model_fields.values()}
    assert names - read == set()


def test_compose_runs_the_advisor_on_redis() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    advisor, redis = compose["services"]["advisor"], compose["services"]["redis"]
    assert advisor["environment"]["ADVISOR_STORE"] == "redis://redis:6379/0"
    assert advisor["depends_on"]["redis"]["condition"] == "service_healthy"
    assert advisor["build"]["dockerfile"] == "deploy/Dockerfile"
    assert "ping" in redis["healthcheck"]["test"]


def _dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text()


def test_image_is_multi_stage_pinned_and_non_root() -> None:
    text = _dockerfile()
    bases = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert len(bases) == 2
    for base in bases:
        assert re.search(r":\d+\.\d+\.\d+", base), f"unpinned base {base}"
    user = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert user
    assert user[-1] not in {"root", "0"}
    assert "HEALTHCHECK" in text


def test_the_image_healthcheck_command_works(tmp_path: Path) -> None:
    """The HEALTHCHECK's own command, run against a real `advisor serve`."""
    match = re.search(r'CMD \["python", "-c", "(.*)"\]', _dockerfile())
    assert match
    code = json.loads(f'"{match.group(1)}"')
    api = FakeSlackAPI().start()
    try:
        with advisor_http(api.url, "memory://", tmp_path / "log") as base:
            port = base.rsplit(":", 1)[1]
            ok = subprocess.run(
                [sys.executable, "-c", code], env={"PORT": port}, timeout=10, check=False
            )
            assert ok.returncode == 0
    finally:
        api.stop()


def test_the_front_door_limits_agree_with_the_app() -> None:
    """The ingress refuses what the app would refuse, earlier; metrics stay off the Service."""
    from bot.adapters.slack.door import Limits
    from bot.adapters.slack.routes import MAX_BODY_BYTES

    (ingress,) = _kind("Ingress")
    notes = ingress["metadata"]["annotations"]
    assert int(notes["nginx.ingress.kubernetes.io/proxy-body-size"].rstrip("k")) * 1000 == (
        MAX_BODY_BYTES
    )
    (paths,) = [rule["http"]["paths"] for rule in ingress["spec"]["rules"]]
    assert [p["path"] for p in paths] == ["/slack/events"]  # /metrics is not routed
    controller = next(d for d in _kind("ConfigMap") if d["metadata"]["name"].startswith("ingress"))
    limits = Limits()
    assert float(controller["data"]["client-header-timeout"]) <= limits.header_seconds
    assert float(controller["data"]["client-body-timeout"]) <= limits.body_seconds
    container = _advisor_deployment()["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    metrics = int(env["ADVISOR_METRICS_PORT"])
    assert metrics in [p["containerPort"] for p in container["ports"]]
    (service,) = [s for s in _kind("Service") if s["metadata"]["name"] == "framework-advisor"]
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]


def _redis_args() -> dict[str, list[str]]:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    k8s = next(
        d
        for d in yaml.safe_load_all((DEPLOY / "k8s" / "redis.yaml").read_text())
        if d["kind"] == "Deployment"
    )
    container = k8s["spec"]["template"]["spec"]["containers"][0]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/data" in mounts
    assert "/data" in " ".join(compose["services"]["redis"]["volumes"])
    return {"compose": compose["services"]["redis"]["command"][1:], "k8s": container["args"]}


@pytest.mark.parametrize("where", ["compose", "k8s"])
def test_shipped_redis_keeps_what_it_acknowledged_and_never_evicts_dialogs(
    where: str, tmp_path: Path
) -> None:
    """The shipped arguments, given to a real redis-server: append-only persistence, and
    writes refused (not dialogs dropped) when memory is full."""
    args = [str(tmp_path) if a == "/data" else a for a in _redis_args()[where]]
    port = free_port()
    binary = shutil.which("redis-server")
    assert binary is not None, "redis-server is needed (.ci/redis-up installs it)"
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server refused the shipped arguments"
                time.sleep(0.05)
        config = client.config_get("*")
        assert config["appendonly"] == "yes"
        assert config["appendfsync"] == "everysec"
        assert config["maxmemory-policy"] == "noeviction"
        assert int(config["maxmemory"]) > 0
        client.close()
    finally:
        server.kill()
        server.wait(timeout=10)
