"""The binding check: a change that would leave a name unbound is rejected before anything is written.

Every changed file is checked with pyflakes before and after the change (`binding_check.py`);
a name reported unbound after it that was not before rejects that file's change (MW704): the
file is left as it is and listed, what relied on its change is left out too (MW706), the rest
is applied, and `--apply` / `--fix` exit 3. The check is part of the plan, so `--dry-run`,
`--check` and `--json` show exactly what `--apply` writes.

The engine's own rewrites are made to keep bindings; to show the check catching a rewrite that
does not, whatever the built-in steps do, these tests register a step with a defect of the
kind the check exists for (it renames an import and forgets the uses) from a file of its own,
as a user's plugin would be, and run the real command on real repositories in `tmp_path`.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrate_ws import steps
from migrate_ws.binding_check import lost_bindings
from migrate_ws.cli import app
from migrate_ws.config import load_config
from migrate_ws.editing import splice
from migrate_ws.engine import plan
from migrate_ws.model import Edit, FileStatus

from helpers import (MOCK_CONFIG, LEGACY_FILE, NOTIFIER, RUNNER, branches, commits_on, dry_run_result, files_of, git,
                     git_init_and_commit, make_repo, pr_body, tree_of, write_files)

FAULTY_STEP = '''\
"""A step with a defect: it renames old_helper's import from shop_utils to new_helper, not its uses."""

from migrate_ws.codemods.base import Command
from migrate_ws.import_statements import AliasSpec
from migrate_ws.steps import Step


class RenameTheImportOnly(Command):
    DESCRIPTION = "Rename the import of old_helper from shop_utils to new_helper (the uses are forgotten)."

    def transform(self, context):
        for binding in context.facts.bindings:
            if binding.kind == "import-name" and binding.module == "shop_utils" and binding.imported == "old_helper":
                spec, module = context.statements.current_spec(binding)
                context.statements.rebind(binding, AliasSpec("new_helper", spec.asname or None), module,
                                          "old_helper -> new_helper")


STEP = Step(name="helpers", title="Rename old_helper to new_helper", description=RenameTheImportOnly.DESCRIPTION,
            command=RenameTheImportOnly, names=lambda config: {"old_helper"}, canonical_module=CANONICAL_TOO)
'''

SHOP_UTILS = "def old_helper(value):\n    return value\n\n\nnew_helper = old_helper\n"
LOSER = "netra_backend/app/services/helpers_user.py"
LOSER_SOURCE = '''\
"""Uses a legacy manager and a helper."""

from netra_backend.app.websocket_core.manager import WebSocketManager
from shop_utils import old_helper


def describe():
    return old_helper(WebSocketManager.__name__)
'''
PROVIDER = "netra_backend/app/services/manager_registry.py"
PROVIDER_SOURCE = '''\
"""Re-exports a manager name under its legacy alias."""

from netra_backend.app.websocket_core.manager import UnifiedWebSocketManager


def kind():
    return UnifiedWebSocketManager
'''
IMPORTER = "netra_backend/app/services/registry_user.py"
IMPORTER_SOURCE = '''\
"""Imports the alias from the registry, and uses a helper."""

from netra_backend.app.services.manager_registry import UnifiedWebSocketManager
from shop_utils import old_helper


def kind():
    return old_helper(UnifiedWebSocketManager)
'''
PATCHER = "netra_backend/app/services/registry_test_support.py"
PATCHER_SOURCE = '''\
"""Patches the registry's alias (the target follows the registry's rewrite)."""

from unittest.mock import patch


def patched():
    return patch("netra_backend.app.services.manager_registry.UnifiedWebSocketManager")
'''


def load_step(folder: Path, canonical_too: bool = False):
    write_files(folder, {"faulty_step.py": FAULTY_STEP.replace("CANONICAL_TOO", str(canonical_too))})
    spec = importlib.util.spec_from_file_location("faulty_step", folder / "faulty_step.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.STEP


@pytest.fixture
def faulty_step(tmp_path: Path):
    step = steps.register(load_step(tmp_path / "plugin"), after="aliases")
    try:
        yield step
    finally:
        steps.unregister(step.name)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo", broken=False, use_git=False)
    write_files(root, {"shop_utils.py": SHOP_UTILS, LOSER: LOSER_SOURCE})
    return commit(root)


def commit(root: Path) -> Path:
    git_init_and_commit(root, "Legacy layout")
    return root


def cli(*args: str | Path):
    """The real command in this process, where the faulty step is registered (one worker: no pool)."""
    return CliRunner().invoke(app, [str(a) for a in args] + ["-j", "1"], catch_exceptions=False)


# ----- the check itself, on real pyflakes ------------------------------------------------------

def rewrite(before: str, *replacements: tuple[str, str]) -> tuple[str, list[Edit]]:
    """The text after replacing each (old, new), the first occurrence of each, as edits on the original."""
    edits = []
    for old, new in replacements:
        start = before.index(old)
        edits.append(Edit(start, start + len(old), new, "imports", before.count("\n", 0, start) + 1, "test edit"))
    return splice(before, edits), edits


def lost(before: str, *replacements: tuple[str, str], filename: str = "app/module.py"):
    after, edits = rewrite(before, *replacements)
    return [(item.name, item.line, item.kind) for item in lost_bindings(before, ast.parse(before), after, filename,
                                                                        edits)]


def test_the_issue_reproduction_is_caught_at_the_line_of_the_use() -> None:
    before = 'import mock\np = mock.patch("os.getcwd")\n'
    assert lost(before, ("import mock", "import unittest.mock")) == [("mock", 2, "undefined")]
    assert lost(before, ("import mock", "from unittest import mock")) == []


def test_a_context_named_later_in_the_function_is_used_before_assignment() -> None:
    before = textwrap.dedent("""\
        from legacy import Manager
        from canonical import get_manager


        def test_it():
            manager = Manager()
            user_context = object()
            return manager, user_context
        """)
    assert lost(before, ("Manager()", "get_manager(user_context)")) == [("user_context", 6, "undefined")]
    # with a module-level name of the same spelling, pyflakes calls it a local used before assignment
    shadowed = before.replace("\n\ndef test_it", "user_context = None\n\n\ndef test_it")
    assert lost(shadowed, ("Manager()", "get_manager(user_context)")) == [
        ("user_context", 7, "used before assignment")]


def test_a_function_level_import_dropped_as_a_duplicate_leaves_the_earlier_call_unbound() -> None:
    before = textwrap.dedent("""\
        def handler(ctx):
            from legacy import create_manager
            first = create_manager(ctx)
            from canonical import get_manager
            return first, get_manager(ctx)
        """)
    assert lost(before, ("    from legacy import create_manager\n", ""), ("create_manager(ctx)", "get_manager(ctx)")) \
        == [("get_manager", 3, "undefined")]


def test_a_name_left_in_all_without_its_import_is_lost() -> None:
    before = "from legacy import create_manager, get_manager\n\n__all__ = ['create_manager', 'get_manager']\n"
    assert lost(before, ("create_manager, get_manager", "get_manager")) == [
        ("create_manager", 3, "listed in __all__ but unbound")]


def test_names_unbound_before_the_change_are_not_new_even_when_renamed_or_moved() -> None:
    # used before its import already (a NameError today): renaming that use loses nothing
    before = "Alias = UnifiedManager\nfrom legacy import Manager, UnifiedManager\n"
    assert lost(before, ("UnifiedManager\n", "Manager\n"), ("Manager, UnifiedManager", "Manager")) == []
    # an unrelated name unbound before stays unbound, on a line the change moved
    before = "import legacy\n\nprint(undefined_anyway)\nlegacy.run()\n"
    assert lost(before, ("import legacy\n", "# moved\nimport canonical\n\n"), ("legacy.run", "canonical.run")) == []


def test_lines_are_given_in_the_original_file_when_the_change_adds_lines() -> None:
    before = "import mock\n\n\ndef f():\n    return mock.patch\n"
    assert lost(before, ("import mock\n", "import os\nimport sys\nimport unittest.mock\n")) == [("mock", 5, "undefined")]


# the shapes tests/test_semantic_fuzz.py found that pyflakes alone does not report: another path
# binds the name, or pyflakes reads a function's body as if it ran after the whole module

def test_an_import_whose_except_branch_binds_the_name_too() -> None:
    before = "try:\n    import mock\nexcept ImportError:\n    mock = None\nprint(mock.helper(1))\n"
    assert lost(before, ("import mock", "import toolkit.testing.mock")) == [
        ("mock", 5, "undefined where an import bound it before (only another path binds it now)")]
    assert lost(before, ("import mock", "from toolkit.testing import mock")) == []


def test_an_import_in_a_function_that_declares_the_name_global() -> None:
    before = "def load():\n    global m\n    import mock as m\n\n\nload()\nprint(m.helper(3))\n"
    assert [item[:2] for item in lost(before, ("import mock as m", "import toolkit.testing.mock"))] == [("m", 7)]
    assert lost(before, ("import mock as m", "from toolkit.testing import mock as m")) == []


def test_an_import_in_a_class_body_is_a_class_attribute() -> None:
    before = "import mock\n\n\nclass C:\n    import mock\n    v = mock.VALUE\n\n\nprint(C.mock.helper())\n"
    assert lost(before, ("    import mock\n    v", "    import toolkit.testing.mock\n    v")) == [
        ("mock", 6, "bound by no import of its module or class any more, though still used (an import bound it before)")]
    # not read in the class body, still an attribute other code may read
    before = "class C:\n    import mock\n\n\nprint(C.mock.helper())\n"
    assert lost(before, ("import mock", "import toolkit.testing.mock")) == [
        ("mock", 1, "no longer a class attribute (an import in the class body bound it before)")]


def test_a_function_import_lost_while_the_module_imports_the_name_only_later() -> None:
    before = "def f():\n    import mock\n    return mock.helper(3)\n\n\nprint(f())\nimport mock\n"
    assert [item[:2] for item in lost(before, ("    import mock\n", "    import toolkit.testing.mock\n"))] == [
        ("mock", 3)]
    # a module-level import before the function: the function's own import was a duplicate
    before = "import mock\n\n\ndef f():\n    import mock\n    return mock.helper(3)\n"
    assert lost(before, ("    import mock\n", "")) == []
    # nor does a star import after the function bind it in time
    before = "def f():\n    import mock\n    return mock.helper(1)\n\n\nprint(f())\nfrom mock import *\n"
    assert [item[:2] for item in lost(before, ("    import mock\n", "    import toolkit.testing.mock\n"))] == [
        ("mock", 3)]


def test_an_import_binding_first_made_later_than_before_while_read_in_between() -> None:
    before = "import mock\nh = lambda: mock.VALUE\nprint(h())\nimport mock as mock\n"
    assert lost(before, ("import mock\n", "import toolkit.testing.mock\n")) == [
        ("mock", 1, "bound by an import only later than before, though read in between")]


def test_a_fallback_import_that_no_longer_binds_the_name() -> None:
    """ddt 1.7.2's shape: the fallback runs only where unittest.mock is missing, but it must still bind."""
    before = "try:\n    from unittest import mock\nexcept ImportError:\n    import mock\n\nprint(mock.patch)\n"
    assert lost(before, ("    import mock\n", "    import unittest.mock\n")) == [
        ("mock", 4, "bound by no import on another path any more (an except handler or an else branch)")]
    assert lost(before, ("    import mock\n", "    from unittest import mock\n")) == []


def test_an_import_removed_as_a_duplicate_after_the_name_was_bound_to_something_else() -> None:
    before = ("from legacy import Manager\nprint(Manager())\nfrom pkg import manager as Manager\n"
              "print(Manager.MODE)\nfrom legacy import Manager\nprint(Manager())\n")
    assert lost(before, ("from legacy import Manager\nprint", "from canonical import Manager\nprint"),
                ("Manager.MODE)\nfrom legacy import Manager\n", "Manager.MODE)\n")) == [
        ("Manager", 5, "bound by another import where a removed import bound it (it was not a duplicate)")]
    # a true duplicate of the import that now binds the name may go
    before = "from legacy import Manager\nprint(Manager())\nfrom canonical import Manager\nprint(Manager())\n"
    assert lost(before, ("from legacy import Manager", "from canonical import Manager"),
                ("from canonical import Manager\nprint", "print")) == []


# ----- through the real command ---------------------------------------------------------------

def test_dry_run_and_json_list_the_rejected_file_and_show_the_rest(faulty_step, repo: Path) -> None:
    done = cli("--dry-run", "-C", repo, "--follow-ups", "all")

    assert done.exit_code == 1, done.output  # the rest of the change is pending
    assert f"{LOSER}:8: MW704 not processed: the change would leave a name unbound: " \
           "`old_helper` would be undefined at line 8; left unchanged" in done.stdout
    assert f"+++ b/{NOTIFIER}" in done.stdout and f"b/{LOSER}" not in done.stdout
    assert "1 file not processed" in done.stdout

    document = json.loads(cli("--json", "-C", repo).stdout)
    assert {"path": LOSER, "code": "MW704", "reason": "the change would leave a name unbound: `old_helper` "
            "would be undefined at line 8; left unchanged"} in document["skipped"]
    assert [group["code"] for group in document["finding_groups"]][0] == "MW704"
    assert LOSER not in [entry["path"] for entry in document["files"] if entry["status"] == "changed"]

    checked = cli("--check", "-C", repo, LOSER)  # nothing else pending there: a file not processed (exit 3)
    assert checked.exit_code == 3, checked.output
    assert f"{LOSER}:8: MW704" in checked.stdout


def test_apply_leaves_the_rejected_file_unchanged_and_applies_the_rest(faulty_step, repo: Path, tmp_path: Path) -> None:
    expected = dry_run_result(repo, tmp_path, ["-j", "1"])
    original = files_of(repo)

    done = cli("--apply", "-C", repo, "--branch", "migrated")

    assert done.exit_code == 3, done.output
    assert f"{LOSER}:8: MW704" in done.stdout or "MW704 binding-lost (error): 1" in done.stdout
    assert branches(repo) == ["main", "migrated"]
    assert git(repo, "status", "--porcelain") == ""
    committed = {path for record in commits_on(repo, "migrated") for path in record["files"]}
    assert LOSER not in committed and NOTIFIER in committed and RUNNER in committed
    tree = tree_of(repo, "migrated")
    assert tree[LOSER] == original[LOSER][0] == (repo / LOSER).read_bytes()
    assert {path: data for path, data in tree.items()} == expected  # exactly what the dry-run showed
    assert "MW704" in pr_body(repo) and LOSER in pr_body(repo)
    follow_ups = json.loads((repo / ".git/migrate-ws/follow-ups.json").read_text(encoding="utf-8"))
    assert any(item["code"] == "MW704" and item["path"] == LOSER for item in follow_ups["findings"]), follow_ups


def test_fix_leaves_the_rejected_file_unchanged_and_fixes_the_rest(faulty_step, repo: Path, tmp_path: Path) -> None:
    expected = dry_run_result(repo, tmp_path, ["-j", "1"])
    original = (repo / LOSER).read_bytes()

    done = cli("--fix", "-C", repo)

    assert done.exit_code == 3, done.output
    assert (repo / LOSER).read_bytes() == original
    assert (repo / NOTIFIER).read_bytes() == expected[NOTIFIER] != files_of(repo)[LOSER][0]
    assert {path: data for path, (data, _) in files_of(repo).items()} == expected
    assert f"{LOSER}:8: MW704" in done.stdout or "MW704 binding-lost (error): 1" in done.stdout


def test_what_relies_on_a_rejected_file_is_left_out_with_it(faulty_step, repo: Path, tmp_path: Path) -> None:
    """The importer is rejected; the registry it imports the alias from would lose that name
    (MW706), and a patch target that follows the registry's rewrite goes with it (MW706)."""
    write_files(repo, {PROVIDER: PROVIDER_SOURCE, IMPORTER: IMPORTER_SOURCE, PATCHER: PATCHER_SOURCE})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "More consumers")

    result = plan(repo, load_config(repo), jobs=1)
    status = {r.path: (r.status, r.code) for r in result.files}
    assert status[IMPORTER] == (FileStatus.FAILED, "MW704")
    assert status[PROVIDER] == (FileStatus.FAILED, "MW706")
    assert status[PATCHER] == (FileStatus.FAILED, "MW706")
    reasons = {r.path: r.reason for r in result.files}
    assert reasons[PROVIDER] == "left unchanged: its change would break an import of UnifiedWebSocketManager that " \
                                "a rejected file still makes"
    assert reasons[PATCHER] == f"left unchanged: its rewrite follows the rewrite of {PROVIDER}, which was rejected"
    assert not [f for f in result.all_findings if f.code == "MW701"]  # nothing written breaks an import

    done = cli("--apply", "-C", repo, "--branch", "migrated")
    assert done.exit_code == 3, done.output
    tree = tree_of(repo, "migrated")
    for path, source in ((PROVIDER, PROVIDER_SOURCE), (IMPORTER, IMPORTER_SOURCE), (PATCHER, PATCHER_SOURCE)):
        assert tree[path] == source.encode()
    assert b"websocket_manager import" in tree[NOTIFIER]
    # the migrated tree still imports: every consumer, the left-out ones included
    code = "import netra_backend.app.services.registry_user, netra_backend.app.services.notifier"
    ran = subprocess.run([sys.executable, "-B", "-W", "ignore", "-c", code], cwd=repo, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr


def test_when_the_canonical_module_is_rejected_every_later_step_is_left_out(tmp_path: Path) -> None:
    step = steps.register(load_step(tmp_path / "plugin", canonical_too=True), after="aliases")
    try:
        root = make_repo(tmp_path / "repo", broken=False, use_git=False)
        canonical = "netra_backend/app/websocket_core/websocket_manager.py"
        source = (root / canonical).read_text() + "\n\nfrom shop_utils import old_helper\n\nHELPED = old_helper(1)\n"
        write_files(root, {"shop_utils.py": SHOP_UTILS, canonical: source})
        result = plan(root, load_config(root), jobs=1)
    finally:
        steps.unregister(step.name)
    by_path = {r.path: r for r in result.files}
    assert (by_path[canonical].status, by_path[canonical].code) == (FileStatus.FAILED, "MW704")
    # the canonical step's rewrite of the canonical module is part of the rejected change: every
    # file a later step changes relies on it
    assert by_path[RUNNER].code == by_path[NOTIFIER].code == by_path[LEGACY_FILE].code == "MW706"
    assert by_path[RUNNER].reason == f"left unchanged: it relies on the canonical, helpers step's change to " \
                                     f"{canonical}, which was rejected"
    assert result.changed_files == []


def test_a_repository_level_step_file_is_checked_too(tmp_path: Path) -> None:
    from migrate_ws.model import FileResult, RepositoryOutcome
    from migrate_ws.steps import Step

    target = "shop_utils.py"

    def drop_the_definition(context):
        original = (context.root / target).read_bytes()
        text = original.decode()
        rewritten = text.replace("def old_helper(value):\n    return value\n", "")
        edit = Edit(0, len(text), rewritten, "retire-helpers", 1, "drop old_helper")
        return RepositoryOutcome(files=[FileResult(target, FileStatus.CHANGED, original=original,
                                                   rewritten=rewritten.encode(), edits=[edit])])

    step = steps.register(Step(name="retire-helpers", title="Retire old_helper", description="Drops old_helper",
                               repository=drop_the_definition))
    try:
        root = make_repo(tmp_path / "repo", broken=False, use_git=False)
        write_files(root, {target: SHOP_UTILS})
        result = plan(root, load_config(root), jobs=1)
    finally:
        steps.unregister(step.name)
    (retired,) = [r for r in result.files if r.path == target]
    assert (retired.status, retired.code, retired.line) == (FileStatus.FAILED, "MW704", 5)
    assert "`old_helper` would be undefined at line 5" in retired.reason
    assert any(r.path == NOTIFIER and r.changed for r in result.files)


# ----- the issue's reproduction, end to end -------------------------------------------------------

@pytest.mark.parametrize("shape", [
    'import mock\np = mock.patch("os.getcwd")\nprint(type(p).__name__)\n',
    'import json, mock\nprint(json.dumps(type(mock.patch("os.getcwd")).__name__))\n',
    'def make():\n    import mock\n    return mock.patch("os.getcwd")\n\n\nprint(type(make()).__name__)\n',
    'import mock\nprint(type(getattr(mock, "patch")("os.getcwd")).__name__)\n',
], ids=["import", "mixed-statement", "function-level", "getattr"])
def test_fix_never_writes_a_file_that_no_longer_runs(tmp_path: Path, shape: str) -> None:
    """The shapes of the issue: after `--fix` the file runs as before, or it is left as it was with MW704."""
    root = tmp_path / "project"
    write_files(root, {"pyproject.toml": MOCK_CONFIG, "mock.py": "from unittest.mock import patch\n", "t.py": shape})

    def run() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-B", "t.py"], cwd=root, capture_output=True, text=True, timeout=60)

    before = run()
    assert before.returncode == 0, before.stderr
    done = subprocess.run([sys.executable, "-m", "migrate_ws", "--fix", "-C", str(root)], capture_output=True,
                          text=True, timeout=120)
    after = run()
    if (root / "t.py").read_text() == shape:
        assert done.returncode == 3, done.stdout + done.stderr
        assert "t.py" in done.stdout and "MW704" in done.stdout
    else:
        assert done.returncode == 1, done.stdout + done.stderr
    assert (after.returncode, after.stdout) == (0, before.stdout), after.stderr
