"""A step is one module: registering it is the only edit a new step needs.

The step below lives in a file this test writes (as a user's plugin would), with its
examples next to it, its own finding code and its own configuration key. Once registered it
runs in the engine, shows in the dry-run summary and in `--json`, gets its own commit with its
own title, reports its code (in the code table, suppressible, in the generated docs), reads its
key (validated, in the configuration reference), and its examples pass the same checks as the
built-in steps' (exact output, parses, safety check, second run idempotent).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrate_ws import findings, steps
from migrate_ws.cli import app
from migrate_ws.config import ConfigError, configuration_keys, load_config, parse_config
from migrate_ws.editing import state_after, steps_touching
from migrate_ws.engine import plan
from migrate_ws.findings import Finding
from migrate_ws.reference_docs import codes_page
from migrate_ws.testing import case_config, cases, check_case

from helpers import git_init_and_commit, write_files

STEP_MODULE = '''\
"""Step `helpers`: calls of shop.utils.old_helper become shop.utils.new_helper."""

from migrate_ws.codemods.base import Command
from migrate_ws.findings import Code, Severity
from migrate_ws.import_statements import AliasSpec
from migrate_ws.steps import Option, Step
from pathlib import Path

HELPER_ALIASED = Code("MW291", "helper-alias-kept", Severity.INFO, "old_helper is imported under another name, "
                      "which stays", "rename the alias when convenient", why="the call works as it is")


class RenameHelperCommand(Command):
    DESCRIPTION = "Rename old_helper, imported from shop.utils, to the configured new name."

    def transform(self, context):
        new = context.config.step_options.get("helpers.new-name", "new_helper")
        for binding in context.facts.bindings:
            if binding.kind != "import-name" or binding.module != "shop.utils" or binding.imported != "old_helper":
                continue
            spec, module = context.statements.current_spec(binding)
            asname = spec.asname if spec.asname else None
            context.statements.rebind(binding, AliasSpec(new, asname), module, f"old_helper -> {new}")
            if asname:
                context.edits.report(HELPER_ALIASED, binding.line, f"old_helper is imported as {asname}")
                continue
            for use in context.names.uses_of(binding):
                start, _ = context.span(use.node)
                context.edits.replace(start, start + len("old_helper"), new, f"old_helper -> {new}")


STEP = Step(
    name="helpers",
    title="Rename old_helper to new_helper",
    description=RenameHelperCommand.DESCRIPTION,
    command=RenameHelperCommand,
    names=lambda config: {"old_helper"},
    examples=Path(__file__).resolve().parent / "helpers_examples",
    codes=(HELPER_ALIASED,),
    options=(Option("helpers.new-name", "the name old_helper becomes (default: new_helper)", str),),
)
'''

CONFIG = '''\
[tool.migrate-ws]
canonical-module = "shop.payments.client"

[tool.migrate-ws.legacy-modules."shop.legacy.payments"]
names = ["PaymentClient"]
'''
TABLE = {"canonical-module": "shop.payments.client", "legacy-modules": {"shop.legacy.payments": ["PaymentClient"]}}

EXAMPLES = {
    "migrate-ws.toml": CONFIG,
    "rename.before.py": "from shop.utils import old_helper\n\n\ndef run():\n    return old_helper(1)\n",
    "rename.after.py": "from shop.utils import new_helper\n\n\ndef run():\n    return new_helper(1)\n",
    "other_module.noop.py": "from other.utils import old_helper\n\nX = old_helper\n",
    "aliased.before.py": "# expect-followup: 3 MW291 imported as oh\n# option: exact-findings\n"
                         "from shop.utils import old_helper as oh\n",
    "aliased.after.py": "# expect-followup: 3 MW291 imported as oh\n# option: exact-findings\n"
                        "from shop.utils import new_helper as oh\n",
    "renamed/migrate-ws.toml": CONFIG + '\n[tool.migrate-ws.helpers]\nnew-name = "better_helper"\n',
    "renamed/rename.before.py": "from shop.utils import old_helper\n\nold_helper()\n",
    "renamed/rename.after.py": "from shop.utils import better_helper\n\nbetter_helper()\n",
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
    """Its examples pass the checks the built-in steps' do, its own code and its own key included."""
    assert steps.order().index("helpers") == steps.order().index("aliases") + 1
    examples = cases(registered.examples)
    assert [case.relative_to(registered.examples).as_posix() for case in examples] == [
        "aliased.before.py", "other_module.noop.py", "rename.before.py", "renamed/rename.before.py"]
    for case in examples:
        outcome = check_case("helpers", case)
        if case.name == "rename.before.py":
            assert {edit.step for edit in outcome.edits} == {"helpers"}
        if case.name == "aliased.before.py":
            assert [(f.code, f.kind.name) for f in outcome.findings] == [("MW291", "helper-alias-kept")]


def test_the_registered_step_owns_its_code_and_its_key(registered, tmp_path: Path) -> None:
    """Its code is in the table (and the generated code page), its key is accepted, checked and listed; both
    go away with the step."""
    assert findings.CODES["MW291"].name == "helper-alias-kept"
    assert "| MW291 | helper-alias-kept | note: the call works as it is |" in codes_page()
    assert ("helpers.new-name", "helpers", "the name old_helper becomes (default: new_helper)") in configuration_keys()
    config = case_config(registered.examples / "renamed" / "rename.before.py")
    assert config.step_options == {"helpers.new-name": "better_helper"}
    with pytest.raises(ConfigError, match=r"^tool\.migrate-ws\.helpers\.new-name: expected str, got 3$"):
        parse_config({**TABLE, "helpers": {"new-name": 3}}, "test")
    with pytest.raises(ConfigError, match=r"^tool\.migrate-ws\.helpers\.old-name: unknown key$"):
        parse_config({**TABLE, "helpers": {"old-name": "x"}}, "test")
    Finding("MW291", "a.py", 1, "old_helper is imported as oh")
    steps.unregister("helpers")
    try:
        assert "MW291" not in findings.CODES and "MW291" not in codes_page()
        with pytest.raises(ConfigError, match=r"^tool\.migrate-ws\.helpers: unknown key$"):
            parse_config({**TABLE, "helpers": {"new-name": "x"}}, "test")
        with pytest.raises(ValueError):
            Finding("MW291", "a.py", 1, "old_helper is imported as oh")
    finally:
        steps.register(registered, after="aliases")


def test_a_steps_codes_are_unique() -> None:
    clash = steps.Step("clash", "Clash", "reports an existing code", command=object,
                       codes=(findings.Code("MW301", "mine", findings.Severity.WARNING, "s", "f"),))
    with pytest.raises(ValueError, match="MW301"):
        steps.register(clash)
    assert "clash" not in steps.order() and findings.CODES["MW301"].name == "no-context-in-scope"


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
