"""The README and the manual in docs/ hold together: every relative link and image points
to a file that exists (and to a heading that exists, when it names one), every page of the
manual is reachable from the README, and the README opens with the two commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# [text](target) and ![alt](target); a target never holds a space or a closing parenthesis here.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def _prose(text: str) -> str:
    """The page without its fenced code blocks (a link-like string in code is not a link)."""
    kept, in_code = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            in_code = not in_code
            continue
        if not in_code:
            kept.append(line)
    return "\n".join(kept)


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for the page's headings: lower case, punctuation dropped, spaces to
    hyphens, a repeated heading numbered -1, -2, ..."""
    seen: dict[str, int] = {}
    anchors = set()
    for line in _prose(page.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _links(page: Path) -> list[str]:
    return [t for t in LINK.findall(_prose(page.read_text(encoding="utf-8")))
            if not re.match(r"[a-z][a-z0-9+.-]*:", t)]  # http:, https:, mailto: are not ours to check


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_reaches_a_file_and_heading(page: Path) -> None:
    links = _links(page)
    broken = []
    for target in links:
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        if not dest.is_file():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target}: no heading '{anchor}' in {dest.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_readme_links_every_page_of_the_manual() -> None:
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in _links(ROOT / "README.md")}
    orphans = [p.name for p in PAGES[1:] if p.resolve() not in linked]
    assert not orphans, f"docs pages no README link reaches: {orphans}"


def test_the_readme_opens_with_the_two_commands() -> None:
    """The project's rule: `make demo` and `make test` are the first thing a reader sees
    (.ci/run runs the README's test command)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```[a-z]*\n(.*?)```", text, re.S)
    assert first_block, "the README has no code block"
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make demo", "make test"]


# A code path the manual names in backticks: `audit_core/run/runner.py`, `run/runner.py`,
# `report/sections/`, `desktop/pages/results_page.py`. Checked against the tree, so a file
# that moves takes its mentions with it (the README's "How it is built" once named modules
# that no longer existed).
CODE_PATH = re.compile(r"`((?:audit_core|desktop|tests|packaging|resources|docs)/[\w./-]*"
                       r"|[a-z_]+/[\w/]*(?:\.py|/))`")
# Files the build writes (`make` records the installation's hashes) are named though absent.
GENERATED = set((ROOT / ".gitignore").read_text(encoding="utf-8").split())
PACKAGES = {p.name for p in (ROOT / "audit_core").iterdir() if p.is_dir() and p.name != "__pycache__"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_code_path_the_page_names_exists(page: Path) -> None:
    missing = []
    for path in CODE_PATH.findall(page.read_text(encoding="utf-8")):
        head = path.split("/", 1)[0]
        if path in GENERATED or re.search(r"\b[A-Z]{3,}\b", path):
            continue  # a placeholder (`audit_core/probes/NAME.py`)
        if head in PACKAGES:  # named from inside audit_core/ (`run/runner.py`)
            candidates = [ROOT / "audit_core" / path]
        elif (ROOT / head).is_dir():
            candidates = [ROOT / path]
        else:
            continue  # not one of ours (a user's folder in an example)
        if not any(c.exists() for c in candidates):
            missing.append(path)
    assert not missing, f"{page.relative_to(ROOT)} names paths that do not exist: {missing}"
