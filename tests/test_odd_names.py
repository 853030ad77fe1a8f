"""File names with a tab, a newline, a quote, a backslash, non-ASCII letters, a leading or a
trailing space, or bytes that are not UTF-8: the patch, the text, JSON, GitHub and SARIF output.

Real files with such names in a real git repository, the real `migrate-ws` process: the
`--diff-output` patch quotes names as git does, so `git apply` takes the whole patch, and it is
byte for byte what `git diff` shows for the applied change; `--apply` commits every such file;
the text output never breaks a line on a name; JSON carries the raw name.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from helpers import git, make_repo, run_cli

LEGACY_CONSUMER = "from netra_backend.app.websocket_core.manager import WebSocketManager\n\nKIND = WebSocketManager\n"
CANONICAL_IMPORT = b"from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"
MESSAGE = ("MW800 imports: import WebSocketManager from netra_backend.app.websocket_core.websocket_manager "
           "instead of netra_backend.app.websocket_core.manager")
NOT_UTF8 = os.fsdecode(b"odd/bad\xff.py")
# each name, and how the text output writes it (git with core.quotePath=false, controls escaped)
ODD_NAMES = {
    "odd/tab\there.py": '"odd/tab\\there.py"',
    "odd/new\nline.py": '"odd/new\\nline.py"',
    'odd/quo"te.py': '"odd/quo\\"te.py"',
    "odd/back\\slash.py": '"odd/back\\\\slash.py"',
    "odd/café.py": "odd/café.py",
    "odd/ leading space.py": "odd/ leading space.py",
    "odd/trailing space .py": "odd/trailing space .py",
    "odd/carriage\rreturn.py": '"odd/carriage\\rreturn.py"',
    "odd/line\u2028separator.py": '"odd/line\\342\\200\\250separator.py"',
    NOT_UTF8: '"odd/bad\\377.py"',
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo", broken=False, use_git=False)
    (root / "odd").mkdir()
    for name in ODD_NAMES:
        try:
            (root / name).write_text(LEGACY_CONSUMER, encoding="utf-8")
        except (OSError, UnicodeEncodeError):  # pragma: no cover - a file system that refuses such a name
            pytest.skip(f"this file system does not take the name {name!r}")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test.user@example.com")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Legacy layout")
    return root


def headers(patch: str) -> list[str]:
    return sorted(line for line in patch.split("\n") if line.startswith(("diff --git ", "--- ", "+++ ")))


def test_the_patch_quotes_names_as_git_does_and_git_apply_takes_all_of_it(repo: Path, tmp_path: Path) -> None:
    patch = tmp_path / "change.patch"
    clone = tmp_path / "clone"
    done = run_cli(["--dry-run", "--no-cache", "--diff-output", patch, "-C", repo], cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    git(tmp_path, "clone", "-q", str(repo), str(clone))

    git(clone, "apply", "--check", str(patch))
    git(clone, "apply", str(patch))

    for name in ODD_NAMES:
        assert (clone / name).read_bytes().startswith(CANONICAL_IMPORT), name
    shown = git(clone, "-c", "core.quotePath=true", "diff", "--no-color", "--no-ext-diff")
    # the file headers are exactly git's (the hunks may be cut differently: git has its own diff algorithm)
    assert headers(patch.read_bytes().decode("ascii")) == headers(shown)
    assert '--- "a/odd/tab\\there.py"' in headers(shown) and "--- a/odd/ leading space.py\t" in headers(shown)
    # and the branch --apply makes is the same tree
    applied = run_cli(["--apply", "--branch", "migrated", "-C", repo], cwd=repo)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "MW906" not in applied.stdout  # every file is known to be tracked, whatever its name
    git(clone, "add", "-A")
    assert git(clone, "write-tree").strip() == git(repo, "rev-parse", "migrated^{tree}").strip()


def test_the_text_output_never_breaks_a_line_on_a_name(repo: Path) -> None:
    (repo / "odd" / "bro\nken.py").write_text(LEGACY_CONSUMER + "def broken(:\n    pass\n", encoding="utf-8")

    result = run_cli(["--check", "--no-cache", "--follow-ups", "all", "-C", repo], cwd=repo)

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()  # splitlines also ends a line at \r, \x85, \u2028
    for name, shown in ODD_NAMES.items():
        assert lines.count(f"  {shown}:1: {MESSAGE}") == 1, (name, result.stdout)
    assert '  "odd/bro\\nken.py":4: MW901 not processed: does not parse: invalid syntax (line 4)' in lines
    pending = [line for line in lines if line.endswith(MESSAGE)]
    assert len(pending) == len(ODD_NAMES)
    assert all(line.startswith("  ") for line in pending)


def test_json_has_the_raw_names_github_and_sarif_escape_them_as_their_formats_say(repo: Path) -> None:
    report = run_cli(["--check", "--no-cache", "--json", "-C", repo], cwd=repo)
    github = run_cli(["--check", "--no-cache", "--output-format", "github", "-C", repo], cwd=repo)
    sarif = run_cli(["--check", "--no-cache", "--output-format", "sarif", "-C", repo], cwd=repo)

    assert set(ODD_NAMES) <= {entry["path"] for entry in json.loads(report.stdout)["files"]}

    commands = github.stdout.split("\n")[:-1]  # a workflow command ends at LF: \r and \n in a value are %0D, %0A
    assert any(line.startswith("::error file=odd/new%0Aline.py,line=1,") for line in commands), github.stdout
    assert any(line.startswith("::error file=odd/carriage%0Dreturn.py,line=1,") for line in commands)
    assert all(line.startswith(("::", "migrate-ws:", "  ")) for line in commands)
    uris = {result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for result in json.loads(sarif.stdout)["runs"][0]["results"]}
    assert {"odd/new%0Aline.py", "odd/tab%09here.py", "odd/caf%C3%A9.py", "odd/bad%FF.py", "odd/quo%22te.py",
            "odd/back%5Cslash.py", "odd/%20leading%20space.py"} <= uris


def test_apply_and_split_commit_every_odd_name(repo: Path) -> None:
    result = run_cli(["--apply", "--split-by", "directory", "-C", repo], cwd=repo)

    assert result.returncode == 0, result.stdout + result.stderr
    made = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()
    foundation = next(name for name in made if name.endswith("-foundation"))
    branch = next(name for name in made if name.endswith("-odd"))
    changed = subprocess.run(["git", "diff", "--name-only", "-z", foundation, branch], cwd=repo, capture_output=True,
                             check=True).stdout.split(b"\0")
    assert sorted(filter(None, changed)) == sorted(os.fsencode(name) for name in ODD_NAMES)
