"""The documentation a newcomer reads: a short README, links that lead somewhere, set-up commands that are CI's."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").rglob("*.md")), REPO / "benchmarks" / "RESULTS.md"]

# The two commands a user on a fresh machine types; changing them breaks what people have learned.
SET_UP = [
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python fixtures/run_example.py",
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest",
]

FENCE = re.compile(r"^\s*(```|~~~)")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`[^`\n]*`")


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (a heading or a link inside an example is not one)."""
    lines: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        match = FENCE.match(line)
        if match:
            if fence is None:
                fence = match.group(1)
            elif match.group(1) == fence:
                fence = None
            continue
        if fence is None:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose_lines(path.read_text(encoding="utf-8")):
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(path: Path) -> list[str]:
    # a link's text may wrap onto the next line, so the prose is searched as one text
    prose = "\n".join(CODE_SPAN.sub(lambda m: m.group(0).replace("](", "] ("), line)
                      for line in prose_lines(path.read_text(encoding="utf-8")))
    targets = [match.group(1) for match in LINK.finditer(prose)]
    return [target for target in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", target)]  # http:, mailto:


def section(text: str, heading: str) -> str:
    """The text under `## heading`, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README has no `## {heading}` section"
    return match.group(1)


def code_blocks(text: str, language: str = "") -> list[str]:
    return [m.group(1) for m in re.finditer(rf"^```{language}\n(.*?)^```$", text, re.M | re.S)]


def test_the_readme_is_at_most_300_lines() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= 300, f"README.md has {lines} lines; move detail to docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading with that anchor in {destination.relative_to(REPO)}")
    assert not broken, f"{page.relative_to(REPO)}: " + "; ".join(broken)


def test_the_links_are_found() -> None:
    # a guard for the link test itself: the README does link to every page of docs/
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in relative_links(README)}
    pages = {page.resolve() for page in PAGES if page != README}
    assert pages <= linked, f"README.md does not link to {sorted(str(p.relative_to(REPO)) for p in pages - linked)}"


def test_the_set_up_commands_are_the_ones_ci_runs() -> None:
    blocks = [block.strip() for block in code_blocks(section(README.read_text(encoding="utf-8"),
                                                             "Set up (two commands, on a fresh machine)"))]
    assert blocks == SET_UP
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == SET_UP[1], "the README's test command is not the one .ci/run runs"
    install = SET_UP[1].rsplit(" && ", 1)[0]
    assert SET_UP[0].startswith(install + " && "), "the two commands install the same way"
    script = shlex.split(SET_UP[0].rsplit(" && ", 1)[1])[-1]
    assert (REPO / script).is_file()


def test_the_readmes_first_configuration_migrates_mock_to_unittest_mock(tmp_path: Path) -> None:
    config = code_blocks(section(README.read_text(encoding="utf-8"), "A first configuration"), "toml")
    assert len(config) == 1
    (tmp_path / "pyproject.toml").write_text(config[0], encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text(
        'import mock\nfrom mock import patch\n\n\ndef test_a():\n    with patch("os.getcwd"):\n'
        "        assert mock.Mock() is not None\n", encoding="utf-8")
    (tmp_path / "tests" / "test_b.py").write_text(
        "from mock import MagicMock as Double\n\n\ndef test_b():\n    assert Double()() is not None\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "migrate_ws", "--dry-run", "--no-cache", "--no-color"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "+from unittest import mock\n" in done.stdout
    assert "+from unittest.mock import patch\n" in done.stdout
    assert "+from unittest.mock import MagicMock as Double\n" in done.stdout
    assert "2 files would change (3 sites), 0 manual follow-ups" in done.stdout
