"""docker-compose.yml and its files in deploy/compose/: valid Compose (the Compose Specification's
JSON schema, tests/data/compose-spec.json, from compose-spec/compose-spec at 170098b), and the
fleet issue 14 asks for: two gateways of the Dockerfile's image with a data volume each, nginx
with deploy/nginx.conf's settings and both gateways upstream, a shared Redis, Prometheus scraping
both with METRICS_TOKEN; the production switch, health checks, pinned images, no secret in a
committed file. Images cannot be pulled or built here; real nginx checks the nginx config in
tests/e2e/test_compose_nginx.py."""
from __future__ import annotations

import json
import re
import subprocess
from urllib.parse import urlsplit

import jsonschema
import yaml

from gemini_proxy.config import ServerSettings
from tests.support import DATA, ROOT
from tests.support.dockerfile import read
from tests.support.secrets import SECRET_SETTINGS

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
GATEWAYS = {name: service for name, service in SERVICES.items() if "build" in service}
NGINX_CONF = ROOT / "deploy" / "compose" / "nginx.conf"


def gateway_addresses() -> set[str]:
    """host:port of every gateway on the Compose network: its service name, BIND's port."""
    return {f"{name}:{service['environment']['BIND'].rpartition(':')[2]}" for name, service in GATEWAYS.items()}


def upstream_servers(config: str) -> set[str]:
    block = re.search(r"upstream gemini_proxy \{(.*?)\n\}", config, re.S).group(1)
    return set(re.findall(r"^\s*server\s+([^\s;]+)", block, re.M))


def directives(config: str) -> list[str]:
    """An nginx config's directives, line by line, without comments and the upstream block."""
    without_upstream = re.sub(r"upstream gemini_proxy \{.*?\n\}\n", "", config, flags=re.S)
    lines = (line.strip() for line in without_upstream.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def mounts(service: dict) -> dict[str, str]:
    """Mount point -> source of a service's volumes (short syntax)."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        found[target] = source
    return found


def seconds(duration: str) -> int:
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert duration, "empty"
    assert match, duration
    return int(match[1] or 0) * 60 + int(match[2] or 0)


def could_be_committed(path: str) -> bool:
    """Tracked by git, or not ignored by .gitignore."""
    def git(*args: str) -> bool:
        return subprocess.run(["git", *args, path], cwd=ROOT, capture_output=True, check=False).returncode == 0
    return git("ls-files", "--error-unmatch") or not git("check-ignore", "--quiet", "--no-index")


def test_the_file_is_valid_compose():
    schema = json.loads((DATA / "compose-spec.json").read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(COMPOSE)]
    assert errors == []


def test_two_gateways_of_the_dockerfiles_image_with_their_own_data_volumes():
    assert sorted(GATEWAYS) == ["gateway-1", "gateway-2"]
    (data,) = json.loads(read()[-1].last("VOLUME").arguments)
    volumes = []
    for service in GATEWAYS.values():
        assert service["build"] == "."
        volumes.append(mounts(service)[data])
    assert len({service["image"] for service in GATEWAYS.values()}) == 1
    assert len(set(volumes)) == 2, volumes
    assert set(volumes) <= set(COMPOSE["volumes"]), "named volumes, kept across container restarts"


def test_every_gateway_has_the_production_switch_and_the_shared_redis():
    for name, service in GATEWAYS.items():
        env = service["environment"]
        assert env["REQUIRE_GEMINI_KEY"] == "true", name
        redis = urlsplit(env["REDIS_URL"])
        assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379), name
    assert "redis" in SERVICES


def test_nginx_balances_both_gateways_with_the_shipped_settings():
    nginx = SERVICES["nginx"]
    assert mounts(nginx)["/etc/nginx/conf.d/default.conf"] == "./deploy/compose/nginx.conf"
    config = NGINX_CONF.read_text()
    assert upstream_servers(config) == gateway_addresses()
    assert directives(config) == directives((ROOT / "deploy" / "nginx.conf").read_text())
    assert {name: dependency["condition"] for name, dependency in nginx["depends_on"].items()} == {
        name: "service_healthy" for name in GATEWAYS}


def test_prometheus_scrapes_both_gateways_with_the_metrics_token():
    prometheus = SERVICES["prometheus"]
    config_file = next(arg.partition("=")[2] for arg in prometheus["command"] if arg.startswith("--config.file="))
    assert mounts(prometheus)[config_file] == "./deploy/compose/prometheus.yml"
    (job,) = yaml.safe_load((ROOT / "deploy" / "compose" / "prometheus.yml").read_text())["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert {target for group in job["static_configs"] for target in group["targets"]} == gateway_addresses()
    assert job["authorization"]["type"] == "Bearer"
    (secret,) = prometheus["secrets"]
    assert job["authorization"]["credentials_file"] == f"/run/secrets/{secret}"
    assert not could_be_committed(COMPOSE["secrets"][secret]["file"])


def test_images_are_pinned_and_services_have_health_checks():
    for name, service in SERVICES.items():
        if name in GATEWAYS:
            assert "healthcheck" not in service, "the image's HEALTHCHECK applies"
            assert seconds(service["stop_grace_period"]) > ServerSettings().graceful_timeout
            continue
        tag = service["image"].partition(":")[2]
        assert re.match(r"v?\d+\.\d+\.\d+", tag), f"{name}: {service['image']} is not pinned to a release"
        assert service["healthcheck"]["test"][0] == "CMD", name
    assert read()[-1].all("HEALTHCHECK")


def test_no_secret_in_a_committed_file():
    example = ROOT / "deploy" / "compose" / "gemini-proxy.env.example"
    named = dict(line.split("=", 1) for line in example.read_text().splitlines() if line and line[0] != "#")
    assert {"GEMINI_API_KEYS", "GATEWAY_API_KEYS", "METRICS_TOKEN"} <= set(named)
    assert set(named.values()) == {""}, "the example leaves every value to fill in"
    for name, service in GATEWAYS.items():
        assert not could_be_committed(service["env_file"]), f"{name}: its env_file could be committed"
        assert (ROOT / service["env_file"]).with_name(example.name) == example
    for name, service in SERVICES.items():
        environment = service.get("environment", {})
        assert not (set(environment) & SECRET_SETTINGS) - {"REDIS_URL"}, name
        if "REDIS_URL" in environment:
            assert urlsplit(environment["REDIS_URL"]).password is None, name
