"""`--apply --interactive`: each file's change is shown step by step and accepted or rejected.

The real CLI runs on a pseudo-terminal (it refuses to ask on anything else) against the
example app in a git repository; the answers are typed at its prompts. A rejected file is
left exactly as it was on the branch and reported as MW705 with the reason, and what
relied on it is left out too, so the branch never holds a change whose other half was
rejected.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from helpers import cli_env, example_app, git, run_cli
from static_imports import new_unresolved_imports

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

PROMPT = "[?] help: "
HEADER = re.compile(r"\[([\w-]+): [^\]\n]*\] (\S+) \(")

ROUTE = "netra_backend/app/routes/websocket_route.py"
FACTORY_SHIM = "netra_backend/app/websocket_core/websocket_manager_factory.py"
CANONICAL = "netra_backend/app/websocket_core/websocket_manager.py"


def on_terminal(args: list[str], cwd: Path, answer: Callable[[str, str], str],
                timeout: float = 60) -> tuple[int, str, list[tuple[str, str]]]:
    """Run the CLI with a pseudo-terminal as stdin/stdout/stderr; `answer(step, path)` for each prompt.

    Returns the exit code, everything printed, and the (step, path) pairs asked about."""
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "migrate_ws", *args], cwd=cwd, stdin=slave, stdout=slave,
                               stderr=slave, env=cli_env(COLUMNS="200"), close_fds=True)
    os.close(slave)
    printed = b""
    answered = 0
    asked: list[tuple[str, str]] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                raise AssertionError("no prompt and no exit within the timeout:\n" + printed.decode(errors="replace"))
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            printed += chunk
            text = printed.decode("utf-8", "replace")
            if text.count(PROMPT) > answered and text.rstrip().endswith(PROMPT.rstrip()):
                answered = text.count(PROMPT)
                step, path = HEADER.findall(text)[-1]
                if not asked or asked[-1] != (step, path):
                    asked.append((step, path))
                os.write(master, (answer(step, path) + "\n").encode())
        process.wait(timeout)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    return process.returncode, printed.decode("utf-8", "replace").replace("\r\n", "\n"), asked


def branch_files(root: Path) -> set[str]:
    return set(git(root, "diff", "--name-only", "--no-renames", "main", "HEAD").split())


def test_a_rejected_file_stays_as_it_is_and_what_relies_on_it_is_left_out(tmp_path):
    root = example_app(tmp_path / "app")
    code, printed, asked = on_terminal(["--apply", "--interactive", "--no-color"], root,
                                       lambda step, path: "r" if path == ROUTE else "a")
    assert code == 0, printed
    assert ("imports", ROUTE) in asked
    changed = branch_files(root)
    # the route imports get_websocket_manager_factory, which the factory module's shim drops:
    # with the route rejected, the factory module keeps its code
    assert ROUTE not in changed and FACTORY_SHIM not in changed
    assert "netra_backend/app/agents/agent_runner.py" in changed
    assert f"{ROUTE}:0: MW705 not processed: rejected in review" in printed
    assert re.search(rf"{re.escape(FACTORY_SHIM)}:0: MW705 not processed: its change would break an import of "
                     r"get_websocket_manager_factory that a rejected file still makes", printed), printed
    before = tmp_path / "before"
    git(root, "worktree", "add", "-q", str(before), "main")
    assert new_unresolved_imports(before, root) == set()
    description = (root / ".git" / "migrate-ws" / "PR_DESCRIPTION.md").read_text(encoding="utf-8")
    assert "MW705" in description and ROUTE in description


def test_accepting_the_rest_of_a_step_asks_no_more_about_it(tmp_path):
    root = example_app(tmp_path / "app")
    whole = example_app(tmp_path / "whole")
    code, printed, asked = on_terminal(["--apply", "--interactive", "--no-color"], root, lambda step, path: "s")
    assert code == 0, printed
    assert [step for step, _ in asked] == sorted({step for step, _ in asked}, key=[s for s, _ in asked].index)
    assert len({step for step, _ in asked}) == len(asked)  # one question per step
    assert "MW705" not in printed
    plain = run_cli(["--apply"], whole)
    assert plain.returncode == 0, plain.stderr
    assert git(root, "rev-parse", "HEAD^{tree}") == git(whole, "rev-parse", "HEAD^{tree}")


def test_rejecting_the_canonical_module_leaves_out_every_later_step(tmp_path):
    root = example_app(tmp_path / "app")
    code, printed, asked = on_terminal(["--apply", "--interactive", "--no-color"], root,
                                       lambda step, path: "r" if path == CANONICAL else "a")
    assert asked[0] == ("canonical", CANONICAL)
    assert asked[1:] == []  # everything else relied on it: nothing left to ask
    assert code == 0, printed
    assert "nothing to apply" in printed.lower() or "nothing to change" in printed.lower(), printed
    assert "relies on the canonical step's change to" in printed
    assert git(root, "branch", "--list").split() == ["*", "main"]


def test_quit_leaves_out_every_file_not_accepted_yet(tmp_path):
    root = example_app(tmp_path / "app")
    answers = iter(["a", "q"])
    code, printed, asked = on_terminal(["--apply", "--interactive", "--no-color"], root, lambda step, path: next(answers))
    assert code == 0, printed
    assert len(asked) == 2
    assert branch_files(root) == {CANONICAL}
    assert "quit before it was shown" in printed


def test_help_then_an_answer(tmp_path):
    root = example_app(tmp_path / "app")
    answers = iter(["?", "x", "q"])
    code, printed, _ = on_terminal(["--apply", "--interactive", "--no-color"], root, lambda step, path: next(answers))
    assert code == 0
    assert "a: accept this file" in printed


def test_interactive_needs_a_terminal_and_no_json(tmp_path):
    root = example_app(tmp_path / "app")
    piped = run_cli(["--apply", "--interactive"], root)
    assert piped.returncode == 2
    assert "--interactive needs a terminal" in piped.stderr
    assert "Traceback" not in piped.stderr
    with_json = run_cli(["--apply", "--interactive", "--json"], root)
    assert with_json.returncode == 2 and "--json" in with_json.stderr
    dry = run_cli(["--dry-run", "--interactive"], root)
    assert dry.returncode == 2 and "--interactive only applies to --apply" in dry.stderr
    assert git(root, "branch", "--list").split() == ["*", "main"]


def test_split_branches_leave_out_what_was_rejected(tmp_path):
    root = example_app(tmp_path / "app")
    code, printed, _ = on_terminal(["--apply", "--interactive", "--no-color", "--split-by", "directory:3"], root,
                                   lambda step, path: "r" if path == ROUTE else "a")
    assert code == 0, printed
    branches = git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads/migrate-ws/").split()
    assert len(branches) > 1, printed
    touched = set()
    for branch in branches:
        touched |= set(git(root, "diff", "--name-only", "--no-renames", "main", branch).split())
    assert ROUTE not in touched and FACTORY_SHIM not in touched
    assert "netra_backend/app/agents/agent_runner.py" in touched
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
