"""The README and docs/: the README stays short and opens with the two commands that work on a
fresh machine, and every relative link, and every repository path the documents name, leads to
something that exists (the tree moves; documents that point at old places mislead)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import ROOT

README = ROOT / "README.md"
RUN_COMMAND = ("python3 -m venv .venv && .venv/bin/pip install -r requirements.txt"
               " && .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app")
TEST_COMMAND = "bash scripts/test.sh"
MAX_README_BYTES = 8192
DOCUMENTS = [README, ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]
# Generated from Settings' field metadata by the configuration part of issue 12, which lands in
# another branch: until it is merged in, a link to it may point at nothing (once the file
# exists, its links and headings are checked like any other).
GENERATED_ELSEWHERE = {ROOT / "docs" / "configuration.md"}
# Named in the documents, made by a first run (and ignored by git).
MADE_AT_RUN_TIME = {"bench/.venv-litellm", "postman/node_modules"}  # by bench/run.py, scripts/install-node-deps.sh

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
_REPO_PATH = re.compile(r"(?:gemini_proxy|gemini_emulator|tests|bench|scripts|deploy|examples|postman|docs|\.ci)"
                        r"/[\w.\-/]*|[\w.\-]+\.(?:py|md|txt|toml|conf|sh)|\.env\.example")


def prose(text: str) -> str:
    """The text without fenced code blocks (a `# comment` in a shell block is no heading)."""
    return _FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for heading in _HEADING.findall(prose(path.read_text())):
        base = slug(heading)
        anchor, n = base, 0
        while anchor in found:  # GitHub numbers repeated headings: x, x-1, x-2
            n += 1
            anchor = f"{base}-{n}"
        found.add(anchor)
    return found


def broken_links(path: Path) -> list[str]:
    text = _INLINE_CODE.sub("", prose(path.read_text()))
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            if linked not in GENERATED_ELSEWHERE:
                broken.append(f"{target}: no such file")
            continue
        if anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading with anchor #{anchor} in {linked.name}")
    return broken


def named_paths(path: Path) -> list[str]:
    """Repository paths written as inline code (`gemini_proxy/upstream/pool.py`)."""
    spans = (span.strip("`") for span in _INLINE_CODE.findall(prose(path.read_text())))
    return [span for span in spans if _REPO_PATH.fullmatch(span)]


def test_readme_is_at_most_8_kb():
    size = len(README.read_bytes())
    assert size <= MAX_README_BYTES, f"README.md is {size} bytes; move detail to docs/"


def test_readme_opens_with_the_two_commands():
    text = README.read_text()
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", text, re.M | re.S)
    assert text[:text.index("```")].strip() == "# gemini-proxy"
    assert blocks[0] == ("bash", RUN_COMMAND + "\n")
    assert blocks[1] == ("bash", TEST_COMMAND + "\n")
    between = text[text.index(RUN_COMMAND):text.index(TEST_COMMAND)]
    assert between == RUN_COMMAND + "\n```\n\n```bash\n"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_to_files_and_headings_that_exist(path):
    assert broken_links(path) == []


def exists(name: str, document: Path) -> bool:
    """A path is from the repository's root; a bare file name may be beside the document or
    anywhere in the code (`conftest.py`)."""
    if "/" in name:
        return (ROOT / name).exists() or name in MADE_AT_RUN_TIME
    return (ROOT / name).exists() or (document.parent / name).exists() or any(
        next((ROOT / folder).rglob(name), None) for folder in ("gemini_proxy", "gemini_emulator", "tests"))


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_paths_named_in_the_documents_exist(path):
    assert [name for name in named_paths(path) if not exists(name, path)] == []


def test_the_checks_catch_what_they_are_for(tmp_path):
    (tmp_path / "other.md").write_text("# Other\n\n## Two words\n\n```bash\n# not a heading\n```\n")
    page = tmp_path / "page.md"
    page.write_text("# Page\n\n[ok](other.md#two-words) [gone](missing.md) [bad anchor](other.md#not-a-heading)\n"
                    "[here](#page) [web](https://example.com/x.md) `[in code](nowhere.md)`\n"
                    "```\n[in a block](nowhere.md)\n```\n`gemini_proxy/no_such_module.py`\n")
    assert broken_links(page) == ["missing.md: no such file",
                                  "other.md#not-a-heading: no heading with anchor #not-a-heading in other.md"]
    assert named_paths(page) == ["gemini_proxy/no_such_module.py"]
    assert not exists("gemini_proxy/no_such_module.py", page)
    assert not exists("no_such_module.py", page)
    assert exists("gemini_proxy/config.py", page)
    assert exists("conftest.py", page)
    assert slug("Put nginx (or another buffering proxy) in front") == "put-nginx-or-another-buffering-proxy-in-front"
    assert slug("/metrics") == "metrics"
    assert slug("gunicorn's own answers") == "gunicorns-own-answers"
