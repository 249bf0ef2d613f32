"""The shape of the code (STYLE.md): which package may import which, pure translation, short
views and modules. Read from the source (AST) or from a fresh interpreter, never from this
process, whose imports the other tests decide."""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

GATEWAY = ROOT / "gemini_proxy"
EMULATOR = ROOT / "gemini_emulator"
MAX_MODULE_LINES = 400
MAX_VIEW_LINES = 20
ROUTE_DECORATORS = frozenset({"route", "get", "post", "put", "patch", "delete"})


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path) -> list[Path]:
    return sorted(package.rglob("*.py"))


def imported(path: Path) -> set[str]:
    """The absolute module names `path` imports (anywhere in it, functions included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: a relative import (the code uses absolute ones)"
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def imports_of(package: Path) -> dict[str, set[str]]:
    return {module_name(path): imported(path) for path in modules(package)}


def under(name: str, *prefixes: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def test_the_gateway_and_the_emulator_import_nothing_of_each_other():
    assert {m: sorted(n for n in names if under(n, "gemini_emulator"))
            for m, names in imports_of(GATEWAY).items() if any(under(n, "gemini_emulator") for n in names)} == {}
    assert {m: sorted(n for n in names if under(n, "gemini_proxy"))
            for m, names in imports_of(EMULATOR).items() if any(under(n, "gemini_proxy") for n in names)} == {}


# Package -> what of the gateway it may import (STYLE.md: dependencies point one way).
ALLOWED = {
    # Pure: the error vocabulary and itself. Not Settings, not the SDK, not media/ or schemas/.
    "gemini_proxy.translate": ("gemini_proxy.translate", "gemini_proxy.errors"),
    "gemini_proxy.errors": (),
    # Request schemas: marshmallow, their own fields, the vocabulary; never translate/.
    "gemini_proxy.schemas": ("gemini_proxy.schemas", "gemini_proxy.errors"),
}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_dependencies_point_one_way(package):
    allowed = ALLOWED[package]
    wrong = {module: sorted(name for name in names if under(name, "gemini_proxy") and not under(name, *allowed))
             for module, names in imports_of(GATEWAY).items() if under(module, package)}
    assert {module: names for module, names in wrong.items() if names} == {}


def test_only_the_app_factory_imports_the_blueprints():
    # openapi/document.py takes Services from services.py: importing it from api/ made a cycle
    # with api/docs.py, which serves the document.
    importers = {module for module, names in imports_of(GATEWAY).items()
                 if not under(module, "gemini_proxy.api") and any(under(n, "gemini_proxy.api") for n in names)}
    assert importers == {"gemini_proxy.app"}


def test_importing_translate_loads_neither_flask_nor_settings_nor_the_sdk():
    names = [module_name(path) for path in modules(GATEWAY / "translate")]
    script = (f"import sys\nfor name in {names!r}:\n    __import__(name)\n"
              "import json; print(json.dumps(sorted(sys.modules)))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                                       check=True).stdout)
    assert "gemini_proxy.translate.chat" in loaded  # the script imported what it should
    forbidden = ("flask", "werkzeug", "google.genai", "gemini_proxy.config", "gemini_proxy.media",
                 "gemini_proxy.schemas", "marshmallow")
    assert [name for name in loaded if under(name, *forbidden)] == []


def test_views_are_short():
    long_views = {}
    for path in modules(GATEWAY / "api"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                    isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ROUTE_DECORATORS
                    for d in node.decorator_list):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_VIEW_LINES:
                    long_views[f"{module_name(path)}.{node.name}"] = length
    assert long_views == {}


def test_the_api_has_views():
    # The length test above would pass on views it cannot see.
    views = [node.name for path in modules(GATEWAY / "api") for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.FunctionDef) and node.decorator_list]
    assert {"create_chat_completion", "create_completion", "create_embeddings", "list_models"} <= set(views)


def test_no_module_is_over_400_lines():
    lengths = {str(path.relative_to(ROOT)): len(path.read_text().splitlines())
               for package in (GATEWAY, EMULATOR) for path in modules(package)}
    assert len(lengths) > 50
    assert {path: lines for path, lines in lengths.items() if lines > MAX_MODULE_LINES} == {}
