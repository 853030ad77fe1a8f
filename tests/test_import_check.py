"""No import that resolves before the change fails after it, and the check that ensures it.

A legacy module binds names every way a real one does (imported from elsewhere, an alias it
creates, a `try/except ImportError` fallback, a private re-export from the canonical
module, `__all__`); consumers use them through `from`, module attributes and `getattr` with
a string. After `--apply` every one of them still imports, for real. The import check is
tested on its own too: a configuration that drops a name still in use, and a shim broken
on purpose, make `--dry-run` report MW701 and `--apply` refuse.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import git, git_init_and_commit, run_cli, write_files
from static_imports import Tree, new_unresolved_imports

REPO = Path(__file__).resolve().parent.parent

CONFIG = '''\
[tool.migrate-ws]
canonical-module = "shop.client"

[tool.migrate-ws.aliases]
LegacyClient = "Client"

[tool.migrate-ws.legacy-modules."shop.legacy"]
names = ["Client", "LegacyClient", "make_client"]
'''

FILES = {
    "shop/__init__.py": "",
    "shop/client.py": '''\
"""The canonical module."""


class Client:
    pass


LegacyClient = Client


def make_client():
    return Client()


def _serialize(message):
    return repr(message)
''',
    "shop/heartbeat.py": "class Heartbeat:\n    interval = 30\n",
    "shop/legacy.py": '''\
"""Old home of the client."""
import warnings

from shop.client import Client, _serialize, make_client
from shop.heartbeat import Heartbeat

try:
    from shop.protocols import ClientProtocol
except ImportError:
    ClientProtocol = None

LegacyClient = Client
HeartbeatAlias = Heartbeat

__all__ = ["Client", "LegacyClient", "make_client", "Heartbeat", "HeartbeatAlias", "ClientProtocol", "_serialize"]

warnings.warn("shop.legacy is deprecated", DeprecationWarning, stacklevel=2)
''',
    "app/__init__.py": "",
    "app/uses_from.py": '''\
from shop.legacy import Client, HeartbeatAlias, _serialize


def run():
    return Client(), HeartbeatAlias(), _serialize("ping")
''',
    "app/uses_module.py": '''\
from shop import legacy


def run():
    beat = getattr(legacy, "Heartbeat")
    return legacy._serialize("x"), legacy.ClientProtocol, beat, sorted(legacy.__all__)
''',
    "app/uses_star.py": "from shop.legacy import *  # noqa\n\nNAMES = (Heartbeat, HeartbeatAlias, make_client)\n",
}

RUN_ALL = ("import warnings; warnings.simplefilter('ignore'); "
           "import app.uses_from as a, app.uses_module as b, app.uses_star as c; "
           "print(a.run()[1].interval, b.run()[0], b.run()[1], c.NAMES[2]().__class__.__name__)")


def make_shop(root: Path, config: str = CONFIG, extra: dict[str, str] | None = None) -> Path:
    write_files(root, {**FILES, "pyproject.toml": config, **(extra or {})})
    git_init_and_commit(root)
    return root


def run_consumers(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUN_ALL], cwd=root, capture_output=True, text=True, timeout=60)


def test_every_name_of_the_retired_module_still_imports_after_apply(tmp_path: Path) -> None:
    root = make_shop(tmp_path / "shop")
    before = run_consumers(root)
    assert before.returncode == 0, before.stderr
    untouched = tmp_path / "before"
    shutil.copytree(root, untouched, ignore=shutil.ignore_patterns(".git"))

    done = run_cli(["--apply", "--branch", "migrated"], cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    shim = (root / "shop/legacy.py").read_text()
    # the module's own docstring stays first, with the deprecation notice added to it
    assert shim.startswith('"""Old home of the client.\n\nDeprecated: import from shop.client instead.')
    after = run_consumers(root)
    assert after.returncode == 0, after.stderr
    assert after.stdout == before.stdout
    assert new_unresolved_imports(untouched, root) == set()


def test_a_dropped_name_still_in_use_is_an_error_and_apply_refuses(tmp_path: Path) -> None:
    config = CONFIG + 'drop = ["HeartbeatAlias"]\n'
    root = make_shop(tmp_path / "shop", config)
    dry = run_cli(["--dry-run", "--json"], cwd=root)
    assert dry.returncode == 1
    errors = [f for f in json.loads(dry.stdout)["findings"] if f["code"] == "MW701"]
    assert [(e["path"], e["line"], e["severity"]) for e in errors] == [("app/uses_from.py", 1, "error")]
    assert "HeartbeatAlias from shop.legacy would no longer resolve after the change" in errors[0]["message"]

    check = run_cli(["--check"], cwd=root)
    assert check.returncode == 1
    assert "1 error (--apply refuses)" in check.stdout
    assert "app/uses_from.py:1: MW701 HeartbeatAlias from shop.legacy" in check.stdout

    head = git(root, "rev-parse", "HEAD")
    refused = run_cli(["--apply"], cwd=root)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "app/uses_from.py:1: MW701" in refused.stdout and "nothing was written" in refused.stderr
    assert git(root, "rev-parse", "HEAD") == head
    assert git(root, "branch", "--list").split() == ["*", "master"] or \
        git(root, "branch", "--list").split() == ["*", "main"]
    assert git(root, "status", "--porcelain") == ""


def test_a_broken_shim_is_caught_by_the_check(tmp_path: Path) -> None:
    """The check itself, not the shim builder: a shim that loses names on purpose must not pass."""
    root = make_shop(tmp_path / "shop")
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from migrate_ws import retirement\n"
        "from migrate_ws.config import load_config\n"
        "from migrate_ws.engine import plan\n"
        "real = retirement._kept_text\n"
        "retirement._kept_text = lambda planner, body, newline: ''  # the shim forgets every kept name\n"
        "retirement._check_shim = lambda shim, module, required: None  # and its own check looks away\n"
        "root = Path(sys.argv[1])\n"
        "result = plan(root, load_config(root), jobs=1)\n"
        "for f in result.all_findings:\n"
        "    if f.code == 'MW701':\n"
        "        print(f.render())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(root)], capture_output=True, text=True, timeout=60,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("app/uses_from.py:1: MW701 HeartbeatAlias from shop.legacy") for line in lines), lines
    assert any(line.startswith("app/uses_from.py:1: MW701 _serialize from shop.legacy") for line in lines), lines
    assert any("app/uses_module.py" in line and "_serialize from shop.legacy" in line for line in lines), lines
    assert any("app/uses_module.py" in line and "Heartbeat from shop.legacy" in line for line in lines), lines


def test_a_module_with_code_of_its_own_stays_and_its_imports_move(tmp_path: Path) -> None:
    extra = {"shop/legacy.py": FILES["shop/legacy.py"] + "\n\ndef helper():\n    return Heartbeat()\n",
             "app/uses_helper.py": "from shop.legacy import helper, LegacyClient\n\nX = (helper, LegacyClient)\n"}
    root = make_shop(tmp_path / "shop", extra=extra)
    untouched = tmp_path / "before"
    shutil.copytree(root, untouched, ignore=shutil.ignore_patterns(".git"))
    dry = run_cli(["--dry-run", "--json"], cwd=root)
    document = json.loads(dry.stdout)
    kept = [f for f in document["findings"] if f["code"] == "MW603"]
    assert kept and kept[0]["path"] == "shop/legacy.py"
    assert "defines function helper (line" in kept[0]["message"]
    done = run_cli(["--apply", "--branch", "kept"], cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    legacy = (root / "shop/legacy.py").read_text()
    assert "def helper():" in legacy and '"""Old home of the client."""' in legacy
    assert "from shop.legacy import helper" in (root / "app/uses_helper.py").read_text()
    assert run_consumers(root).returncode == 0
    assert new_unresolved_imports(untouched, root) == set()


def test_an_import_broken_before_the_change_is_listed_once_as_information(tmp_path: Path) -> None:
    extra = {"app/stale.py": "from shop.legacy import Missing, LegacyClient\nfrom shop.legacy import Missing as M2\n"}
    root = make_shop(tmp_path / "shop", extra=extra)
    document = json.loads(run_cli(["--dry-run", "--json"], cwd=root).stdout)
    broken = [f for f in document["findings"] if f["code"] in ("MW701", "MW702")]
    assert [(f["code"], f["path"]) for f in broken] == [("MW702", "app/stale.py")]
    assert broken[0]["severity"] == "info"


def test_the_example_app_breaks_no_import(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(REPO / "fixtures" / "legacy_app", app, ignore=shutil.ignore_patterns("__pycache__"))
    git_init_and_commit(app)
    untouched = tmp_path / "before"
    shutil.copytree(app, untouched, ignore=shutil.ignore_patterns(".git"))
    done = run_cli(["--apply"], cwd=app)
    assert done.returncode == 0, done.stdout + done.stderr
    assert Tree(app).references(), "the static check found nothing to check"
    assert new_unresolved_imports(untouched, app) == set()


@pytest.mark.slow
def test_a_generated_monorepo_breaks_no_import(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import make_corpus
    finally:
        sys.path.pop(0)
    corpus = tmp_path / "corpus"
    assert make_corpus.main([str(corpus), "--files", "800"]) == 0
    git_init_and_commit(corpus)
    untouched = tmp_path / "before"
    shutil.copytree(corpus, untouched, ignore=shutil.ignore_patterns(".git"))
    done = run_cli(["--apply", "--preset", "netra", "-j", "2"], cwd=corpus)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert new_unresolved_imports(untouched, corpus) == set()


def test_the_static_checker_itself_sees_a_broken_import(tmp_path: Path) -> None:
    """The before/after comparison the tests above rely on is not blind."""
    before = make_shop(tmp_path / "before")
    after = tmp_path / "after"
    shutil.copytree(before, after, ignore=shutil.ignore_patterns(".git"))
    legacy = after / "shop/legacy.py"
    legacy.write_text(legacy.read_text().replace("HeartbeatAlias = Heartbeat\n", ""))
    assert new_unresolved_imports(before, after) == {("app/uses_from.py", "shop.legacy", "HeartbeatAlias")}
