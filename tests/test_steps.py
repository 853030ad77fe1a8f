"""A step is one module: registering it and its fixture folder is the only edit a new step needs.

The step below lives in a file this test writes (as a user's plugin would), with its
examples next to it. Once registered it runs in the engine, shows in the dry-run summary
and in `--json`, gets its own commit with its own title, and its examples pass the same
checks as the built-in steps' (exact output, parses, safety check, second run idempotent).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrate_ws import steps
from migrate_ws.cli import app
from migrate_ws.config import load_config
from migrate_ws.editing import state_after, steps_touching
from migrate_ws.engine import plan
from migrate_ws.testing import assert_codemod, case_config, cases, fixture_targets, load_case

from helpers import git_init_and_commit, write_files

STEP_MODULE = '''\
"""Step `helpers`: calls of shop.utils.old_helper become shop.utils.new_helper."""

from migrate_ws.codemods.base import Command
from migrate_ws.import_statements import AliasSpec
from migrate_ws.steps import Step
from pathlib import Path


class RenameHelperCommand(Command):
    DESCRIPTION = "Rename old_helper, imported from shop.utils, to new_helper."

    def transform(self, context):
        for binding in context.facts.bindings:
            if binding.kind != "import-name" or binding.module != "shop.utils" or binding.imported != "old_helper":
                continue
            spec, module = context.statements.current_spec(binding)
            asname = spec.asname if spec.asname else None
            context.statements.rebind(binding, AliasSpec("new_helper", asname), module, "old_helper -> new_helper")
            if asname:
                continue
            for use in context.names.uses_of(binding):
                start, _ = context.span(use.node)
                context.edits.replace(start, start + len("old_helper"), "new_helper", "old_helper -> new_helper")


STEP = Step(
    name="helpers",
    title="Rename old_helper to new_helper",
    description=RenameHelperCommand.DESCRIPTION,
    command=RenameHelperCommand,
    names=lambda config: {"old_helper"},
    examples=Path(__file__).resolve().parent / "helpers_examples",
)
'''

CONFIG = '''\
[tool.migrate-ws]
canonical-module = "shop.payments.client"

[tool.migrate-ws.legacy-modules."shop.legacy.payments"]
names = ["PaymentClient"]
'''

EXAMPLES = {
    "migrate-ws.toml": CONFIG,
    "rename.before.py": "from shop.utils import old_helper\n\n\ndef run():\n    return old_helper(1)\n",
    "rename.after.py": "from shop.utils import new_helper\n\n\ndef run():\n    return new_helper(1)\n",
    "other_module.noop.py": "from other.utils import old_helper\n\nX = old_helper\n",
}


@pytest.fixture
def registered(tmp_path: Path):
    """The step, loaded from its own file and registered after the aliases step; removed afterwards."""
    folder = tmp_path / "plugin"
    write_files(folder, {"rename_helpers.py": STEP_MODULE,
                         **{f"helpers_examples/{name}": text for name, text in EXAMPLES.items()}})
    spec = importlib.util.spec_from_file_location("rename_helpers", folder / "rename_helpers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    steps.register(module.STEP, after="aliases")
    try:
        yield module.STEP
    finally:
        steps.unregister(module.STEP.name)


def test_the_registered_step_runs_its_examples(registered) -> None:
    assert steps.order().index("helpers") == steps.order().index("aliases") + 1
    examples = cases(registered.examples)
    assert len(examples) == 2
    for case in examples:
        before, after, _ = load_case(case)
        outcome = assert_codemod(before, after, "app/use.py", fixture_targets(case_config(case)))
        if case.name.endswith(".noop.py"):
            assert not outcome.edits
        else:
            assert {edit.step for edit in outcome.edits} == {"helpers"}


def test_the_registered_step_is_planned_reported_and_committed(registered, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    write_files(root, {
        "pyproject.toml": CONFIG,
        "shop/__init__.py": "", "shop/utils.py": "def old_helper(x):\n    return x\n\n\nnew_helper = old_helper\n",
        "shop/legacy/__init__.py": "", "shop/legacy/payments.py": "class PaymentClient:\n    pass\n",
        "shop/payments/__init__.py": "", "shop/payments/client.py": "class PaymentClient:\n    pass\n",
        "app/__init__.py": "",
        "app/use.py": textwrap.dedent("""\
            from shop.legacy.payments import PaymentClient
            from shop.utils import old_helper


            def run():
                return PaymentClient, old_helper(2)
            """),
    })
    git_init_and_commit(root)
    result = plan(root, load_config(root), jobs=1)
    (use,) = [r for r in result.changed_files if r.path == "app/use.py"]
    assert steps_touching(use.edits, result.steps) == ["imports", "helpers"]
    assert "helpers" in result.steps and result.titles["helpers"] == "Rename old_helper to new_helper"
    after_imports = state_after(use.original.decode(), use.edits, result.steps, "imports")
    assert "old_helper(2)" in after_imports and "shop.payments.client" in after_imports

    runner = CliRunner()
    dry = runner.invoke(app, ["--dry-run", "-C", str(root)], catch_exceptions=False)
    assert dry.exit_code == 1
    assert any(line.strip().startswith("helpers") and "Rename old_helper to new_helper" in line
               for line in dry.stdout.splitlines())
    document = json.loads(runner.invoke(app, ["--json", "-C", str(root)], catch_exceptions=False).stdout)
    assert {"name": "helpers", "title": "Rename old_helper to new_helper"} in document["steps"]
    assert document["summary"]["sites"]["helpers"] == 2

    applied = runner.invoke(app, ["--apply", "-C", str(root), "--branch", "with-helpers", "-j", "1"],
                            catch_exceptions=False)
    assert applied.exit_code == 0, applied.output
    subjects = subprocess.run(["git", "log", "--format=%s", "main..with-helpers"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.splitlines()
    assert "migrate-ws: Rename old_helper to new_helper (2 sites in 1 file)" in subjects
    assert (root / "app/use.py").read_text().endswith("return PaymentClient, new_helper(2)\n")


def test_a_step_needs_a_unique_name_and_one_kind_of_work() -> None:
    with pytest.raises(ValueError):
        steps.register(steps.get("imports"))
    with pytest.raises(ValueError):
        steps.Step("nothing", "Nothing", "does nothing")
