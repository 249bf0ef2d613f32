"""pyproject.toml pins what the requirements files pin (the files are what the README and CI install)."""
import tomllib

from tests.support import ROOT


def pins(name: str) -> set[str]:
    """The lines of a requirements file, following its `-r` includes."""
    found = set()
    for raw in (ROOT / name).read_text().splitlines():
        line = raw.split("#")[0].strip()
        if line.startswith("-r "):
            found |= pins(str((ROOT / name).parent.relative_to(ROOT) / line[3:].strip()))
        elif line:
            found.add(line)
    return found


def test_pyproject_pins_what_the_requirements_files_pin():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = set(project["dependencies"])
    assert runtime == pins("requirements.txt")
    assert runtime | set(project["optional-dependencies"]["dev"]) == pins("requirements-dev.txt")
