"""deploy/kubernetes/: every manifest passes kubernetes-validate (strict, so a misspelt field
fails; offline, against the schemas the package bundles), and the manifests say what the gateway
needs: probes on /healthz and /readyz, a drain at least as long as the longest answer may take
to start and a grace period longer than preStop plus that drain, the production switch, the
shared Redis, a non-root read-only container with /data and /tmp writable, resources; the keys
only as placeholders in an example file."""
from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import yaml

from gemini_proxy.config import Settings
from tests.support import ROOT
from tests.support.dockerfile import read
from tests.support.secrets import SECRET_SETTINGS

MANIFESTS = ROOT / "deploy" / "kubernetes"
FILES = sorted([*MANIFESTS.glob("*.yaml"), *MANIFESTS.glob("*.yaml.example")])
# The newest Kubernetes the validator bundles, and an older one that managed clusters still run
# (nothing here needs more than apps/v1, autoscaling/v2 and policy/v1).
KUBERNETES_VERSIONS = ["1.33.0", "1.37.0"]


def documents() -> list[dict]:
    return [doc for path in FILES for doc in yaml.safe_load_all(path.read_text()) if doc]


def resource(kind: str, name: str) -> dict:
    (found,) = [doc for doc in documents() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    return found


DEPLOYMENT = resource("Deployment", "gemini-proxy")
POD = DEPLOYMENT["spec"]["template"]["spec"]
(GATEWAY,) = POD["containers"]
CONFIG = resource("ConfigMap", "gemini-proxy-config")["data"]


def kubernetes_validate(*paths, version: str) -> subprocess.CompletedProcess:
    if importlib.util.find_spec("kubernetes_validate") is None:
        pytest.skip("kubernetes-validate is not installed: `pip install -r requirements-dev.txt` installs it")
    return subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "-k", version, *map(str, paths)],
                          capture_output=True, text=True, timeout=120, check=False)


def quantity(text: str) -> float:
    """A Kubernetes quantity in base units (CPUs, bytes): 100m, 2, 320Mi."""
    number, unit = re.fullmatch(r"([\d.]+)(m|Ki|Mi|Gi)?", str(text)).groups()
    return float(number) * {None: 1, "m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}[unit]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_passes_kubernetes_validate(version):
    result = kubernetes_validate(*FILES, version=version)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == len(documents())


def test_kubernetes_validate_would_catch_a_misspelt_field(tmp_path):
    misspelt = tmp_path / "deployment.yaml"
    misspelt.write_text((MANIFESTS / "deployment.yaml").read_text().replace("readinessProbe:", "readinesProbe:"))
    result = kubernetes_validate(misspelt, version=KUBERNETES_VERSIONS[0])
    assert result.returncode == 1
    assert "'readinesProbe' was unexpected" in result.stdout + result.stderr


def test_probes_ask_healthz_for_liveness_and_readyz_for_readiness():
    (port,) = GATEWAY["ports"]
    assert port["containerPort"] == int(CONFIG["BIND"].rpartition(":")[2])
    probes = {name: GATEWAY[name]["httpGet"] for name in ("livenessProbe", "readinessProbe", "startupProbe")}
    assert {name: probe["path"] for name, probe in probes.items()} == {
        "livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"}
    assert all(probe["port"] == port["name"] for probe in probes.values())


def test_the_grace_period_outlasts_prestop_and_the_longest_answer():
    drain = int(CONFIG["GUNICORN_GRACEFUL_TIMEOUT"])
    # The longest an answer may take to start (and a non-streamed answer in all): a stream
    # running at SIGTERM gets at least that long to finish.
    assert drain >= Settings().upstream_timeout
    command = GATEWAY["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    assert POD["terminationGracePeriodSeconds"] > int(command[1]) + drain


def test_the_production_switch_and_the_shared_redis():
    assert CONFIG["REQUIRE_GEMINI_KEY"] == "true"
    # On a name in both, the last source wins: the ConfigMap's switch over anything in the Secret.
    assert [next(iter(source)) for source in GATEWAY["envFrom"]] == ["secretRef", "configMapRef"]
    assert GATEWAY["envFrom"][1]["configMapRef"]["name"] == "gemini-proxy-config"
    redis_url = urlsplit(CONFIG["REDIS_URL"])
    service = resource("Service", redis_url.hostname)
    assert redis_url.port == service["spec"]["ports"][0]["port"]
    (redis,) = resource("Deployment", "gemini-proxy-redis")["spec"]["template"]["spec"]["containers"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert redis["image"] == compose["services"]["redis"]["image"], "one pinned Redis for both"


def test_non_root_with_a_read_only_root_and_writable_data_and_tmp():
    runtime = read()[-1]
    uid, _, gid = runtime.last("USER").arguments.partition(":")
    assert POD["securityContext"]["runAsNonRoot"] is True
    assert (POD["securityContext"]["runAsUser"], POD["securityContext"]["runAsGroup"]) == (int(uid), int(gid))
    assert GATEWAY["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                          "capabilities": {"drop": ["ALL"]}}
    volumes = {volume["name"]: volume for volume in POD["volumes"]}
    mounted = {mount["mountPath"]: volumes[mount["name"]] for mount in GATEWAY["volumeMounts"]}
    (data,) = json.loads(runtime.last("VOLUME").arguments)
    assert set(mounted) == {data, "/tmp"}
    assert all("emptyDir" in volume for volume in mounted.values())


def test_resources_are_requested_and_bounded():
    resources = GATEWAY["resources"]
    for kind in ("cpu", "memory"):
        assert 0 < quantity(resources["requests"][kind]) <= quantity(resources["limits"][kind]), kind
    # The memory-backed /tmp counts against the limit.
    tmp = next(volume for volume in POD["volumes"] if volume["name"] == "tmp")["emptyDir"]
    assert quantity(tmp["sizeLimit"]) < quantity(resources["limits"]["memory"]) / 4


def test_service_autoscaler_and_disruption_budget_target_the_gateway_pods():
    labels = DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    assert DEPLOYMENT["spec"]["selector"]["matchLabels"] == labels
    service = resource("Service", "gemini-proxy")
    assert service["spec"]["selector"] == labels
    assert service["spec"]["ports"][0]["targetPort"] == GATEWAY["ports"][0]["name"]
    budget = resource("PodDisruptionBudget", "gemini-proxy")["spec"]
    assert budget["selector"]["matchLabels"] == labels
    autoscaler = resource("HorizontalPodAutoscaler", "gemini-proxy")["spec"]
    assert autoscaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "gemini-proxy"}
    assert budget["maxUnavailable"] < autoscaler["minReplicas"] <= DEPLOYMENT["spec"]["replicas"]


def test_keys_only_as_placeholders_in_an_example_secret():
    secrets = [path for path in FILES if any(doc["kind"] == "Secret" for doc in yaml.safe_load_all(path.read_text()))]
    assert [path.name for path in secrets] == ["secret.yaml.example"], "kubectl apply -f deploy/kubernetes/ skips it"
    (secret,) = yaml.safe_load_all(secrets[0].read_text())
    assert set(secret["stringData"]) == {"GEMINI_API_KEYS", "GATEWAY_API_KEYS", "METRICS_TOKEN"}
    assert all("REPLACE-WITH-" in value for value in secret["stringData"].values())
    assert GATEWAY["envFrom"][0]["secretRef"]["name"] == secret["metadata"]["name"]
    assert not (set(CONFIG) & SECRET_SETTINGS) - {"REDIS_URL"}
    assert urlsplit(CONFIG["REDIS_URL"]).password is None
