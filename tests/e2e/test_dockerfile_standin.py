"""A stand-in for building and running the image, which these machines cannot do (no container
registry): the Dockerfile's own build-stage commands (read from it, not copied) make a fresh
virtualenv in a temporary folder, its COPY instructions lay out the app folder, and its
ENTRYPOINT + CMD run there with its ENV, the image paths mapped to temporary folders.

Reaches the package registry: the build stage's `pip install --no-cache-dir -r requirements.txt`
downloads every wheel, as an image build does: about 35 s of the test's 45 s on the idle 2-CPU
machine, up to a minute of 75 s when its CPUs are shared. The pip cache is not used, because the
Dockerfile says not to."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from gemini_proxy.config import ServerSettings
from tests.support import ROOT
from tests.support.dockerfile import Instruction, Stage, read
from tests.support.processes import free_port, wait_for

pytestmark = pytest.mark.e2e

CHAT = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}


def mapped(text: str, paths: dict[str, Path]) -> str:
    for image_path in sorted(paths, key=len, reverse=True):
        text = text.replace(image_path, str(paths[image_path]))
    return text


def copy(instruction: Instruction, workdir: Path) -> None:
    """COPY from the build context (the repository) as Docker does it: a folder's contents into
    the destination, files into a destination folder; .dockerignore's __pycache__ left out."""
    *sources, destination = instruction.options_and_rest()[1].split()
    target = workdir / destination
    for source in sources:
        path = ROOT / source
        if path.is_dir():
            shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / path.name)


def build(stage: Stage, paths: dict[str, Path]) -> None:
    """The build stage's WORKDIR, COPY and RUN, in order, with the base image's python first on
    PATH (the machine's interpreter stands in for the image's)."""
    env = {**os.environ, "PATH": f"{Path(sys.base_prefix) / 'bin'}:{os.environ['PATH']}"}
    workdir = ROOT
    for instruction in stage.instructions:
        if instruction.keyword == "WORKDIR":
            workdir = Path(mapped(instruction.arguments, paths))
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "COPY":
            copy(instruction, workdir)
        elif instruction.keyword == "RUN":
            command = mapped(instruction.arguments, paths)
            result = subprocess.run(["sh", "-c", command], cwd=workdir, env=env, capture_output=True, text=True,
                                    timeout=240, check=False)
            assert result.returncode == 0, f"RUN {command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def lay_out(stage: Stage, paths: dict[str, Path]) -> Path:
    """The runtime stage's files: its COPY from the context into its WORKDIR (the virtualenv it
    copies from the build stage is already at its mapped path). Its RUN lines make the user and
    /data as root: the test runs as whoever it is, in a temporary /data."""
    workdir = Path("/")
    for instruction in stage.instructions:
        if instruction.keyword == "WORKDIR":
            workdir = Path(mapped(instruction.arguments, paths))
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "COPY":
            options, rest = instruction.options_and_rest()
            if "from" in options:
                source, destination = rest.split()
                assert source == destination, instruction
                assert source in paths, instruction
            else:
                copy(instruction, workdir)
    for volume in stage.all("VOLUME"):
        for path in json.loads(volume.arguments):
            Path(mapped(path, paths)).mkdir(parents=True, exist_ok=True)
    return workdir


def test_the_images_commands_install_serve_and_drain(emulator_process, tmp_path):
    build_stage, runtime = read()
    paths = {"/opt/venv": tmp_path / "venv", "/src": tmp_path / "src", "/app": tmp_path / "app",
             "/data": tmp_path / "data"}
    started = time.monotonic()
    build(build_stage, paths)
    installed = time.monotonic() - started
    app = lay_out(runtime, paths)

    port = free_port()
    env = {name: mapped(value, paths) for name, value in runtime.env().items()}
    # 0.0.0.0:8000 in the image; here a free port on loopback (the health check follows BIND).
    env.update(HOME=str(tmp_path), BIND=f"127.0.0.1:{port}", GEMINI_BASE_URL=emulator_process,
               GEMINI_API_KEY="dummy-key-for-the-emulator")
    argv = [*runtime.last("ENTRYPOINT").exec_form(), *runtime.last("CMD").exec_form()]
    executable = shutil.which(argv[0], path=env["PATH"])
    assert executable, argv[0]
    assert executable.startswith(str(paths["/opt/venv"])), f"{argv[0]} is not the image's virtualenv's"
    health_check = runtime.last("HEALTHCHECK").exec_form()
    log = tmp_path / "container.log"
    with log.open("w") as sink:
        # Its own process group, so that a failed test can stop the init and everything under it.
        init = subprocess.Popen([executable, *argv[1:]], cwd=app, env=env, stdout=sink, stderr=sink,
                                start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", init, timeout=60)
        (arbiter,) = psutil.Process(init.pid).children()
        assert "gunicorn" in " ".join(arbiter.cmdline()), "gunicorn is the init's (PID 1's) only child"
        server = ServerSettings.from_env(env)
        deadline = time.monotonic() + 10  # gunicorn forks its workers a fraction of a second apart
        while len(arbiter.children()) < server.workers and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(arbiter.children()) == server.workers

        assert subprocess.run(health_check, env=env, timeout=30, check=False).returncode == 0
        assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=30).status_code == 200
        answer = requests.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=CHAT, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["choices"][0]["message"]["content"]

        stream = {**CHAT, "stream": True, "messages": [{"role": "user", "content": "[emulator tps=40 tokens=80]"}]}
        with requests.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=stream, stream=True,
                           timeout=30) as response:
            lines = response.iter_lines()
            assert next(lines).startswith(b"data: ")
            init.send_signal(signal.SIGTERM)  # what `docker stop` sends to PID 1
            rest = [line for line in lines if line]
        stopping = time.monotonic()
        assert rest[-1] == b"data: [DONE]", "the stream in flight finished"
        assert init.wait(server.graceful_timeout) == 0
        assert time.monotonic() - stopping < 10
    finally:
        if init.poll() is None:
            os.killpg(init.pid, signal.SIGKILL)
            init.wait(10)
    assert subprocess.run(health_check, env=env, capture_output=True, timeout=30, check=False).returncode == 1
    print(f"build stage (fresh virtualenv, pip install): {installed:.1f} s")
    assert "Traceback" not in log.read_text()
