"""The repository's Dockerfile read as data (its stages and their instructions), so that tests
check and run what it says (install and start commands, environment, health check) rather than
copies of it that could drift."""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import ROOT

DOCKERFILE = ROOT / "Dockerfile"
# What an image built FROM python:*-slim starts with, before the Dockerfile's own ENV.
BASE_IMAGE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}

_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: RUN, COPY, ENV, ...
    arguments: str  # the rest, continuation lines joined

    def options_and_rest(self) -> tuple[dict[str, str], str]:
        """Leading `--name=value` options (COPY --from=..., HEALTHCHECK --interval=...) and what follows."""
        options, rest = {}, self.arguments
        while match := re.match(r"--([\w-]+)=(\S+)\s*", rest):
            options[match.group(1)] = match.group(2)
            rest = rest[match.end():]
        return options, rest

    def exec_form(self) -> list[str]:
        """The JSON array of CMD, ENTRYPOINT or HEALTHCHECK ... CMD (shell form is refused:
        a test that runs it would run /bin/sh, not what the image runs)."""
        rest = self.options_and_rest()[1]
        if self.keyword == "HEALTHCHECK":
            rest = rest.removeprefix("CMD").strip()
        command = json.loads(rest)
        assert isinstance(command, list), self
        assert all(isinstance(part, str) for part in command), self
        return command


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"no {keyword} in the stage FROM {self.base}"
        return found[-1]

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """`base` (the base image's environment) with this stage's ENV applied, $VARs expanded."""
        values = dict(BASE_IMAGE_ENV if base is None else base)
        for instruction in self.all("ENV"):
            for pair in shlex.split(instruction.arguments):
                name, sep, value = pair.partition("=")
                assert sep, f"ENV {pair}: only the NAME=value form is read"
                values[name] = _VARIABLE.sub(lambda m: values.get(m.group(1) or m.group(2), ""), value)
        return values


def logical_lines(text: str) -> list[str]:
    """Instructions one per line: comments dropped (also inside a continuation, as Docker does),
    lines ending in a backslash joined to the next."""
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not current):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1].rstrip() + " "
            continue
        lines.append((current + stripped).strip())
        current = ""
    if current.strip():
        lines.append(current.strip())
    return [line for line in lines if line]


def parse(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for line in logical_lines(text):
        keyword, _, arguments = line.partition(" ")
        keyword, arguments = keyword.upper(), arguments.strip()
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        else:
            assert stages, f"{keyword} before FROM"
            stages[-1].instructions.append(Instruction(keyword, arguments))
    return stages


def read(path: Path = DOCKERFILE) -> list[Stage]:
    return parse(path.read_text())
