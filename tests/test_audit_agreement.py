"""The audit and the migration agree: every legacy import site `migrate-ws audit` lists is either
moved by the migration or a finding of the migration at that file and line, and the audit says
which (real CLI, real git repositories in tmp_path).

On the example app (fixtures/legacy_app) every site moves, so a copy of it gets one more module
with the shapes that stay in the user's monorepo: a name the legacy package's configuration does
not list (but the canonical module exports), imported in parentheses, and the package imported as a module object that is also
passed around. On a generated corpus, the shapes come in the real repository's proportions.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from helpers import git_init_and_commit, run_cli

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "fixtures" / "legacy_app"
DIAGNOSTICS = "netra_backend/app/services/diagnostics.py"
DIAGNOSTICS_SOURCE = '''\
"""Diagnostics for the WebSocket core: the manager modes, and a reload for operators."""

import importlib

import netra_backend.app.websocket_core as websocket_core
from netra_backend.app.websocket_core import (
    WebSocketManagerMode,
)


def modes():
    return [mode.value for mode in WebSocketManagerMode]


def reload_core():
    assert websocket_core.WebSocketManager is not None
    return importlib.reload(websocket_core)
'''
LOCATION = re.compile(r"^(?P<path>.+?):(?P<line>\d+): ")


def app_copy(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    root = tmp_path / "app"
    shutil.copytree(APP, root, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path, text in (extra or {}).items():
        (root / path).write_text(text, encoding="utf-8")
    git_init_and_commit(root, "Legacy app")
    return root


def audit(root: Path, *options: str) -> dict:
    done = run_cli(["audit", "--json", *options], cwd=root, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def import_locations(document: dict) -> list[tuple[str, int]]:
    """The locations the audit's import-path check lists (the same strings in every version of the report)."""
    found = []
    for violation in document["checks"]["import-paths"]:
        for location in violation["locations"]:
            match = LOCATION.match(location)
            assert match, location
            found.append((match["path"], int(match["line"])))
    return found


def findings_at(root: Path, *options: str) -> dict[tuple[str, int], list[str]]:
    """The migration's findings by file and line, as `--dry-run --json` reports them on the tree as it is."""
    done = run_cli(["--dry-run", "--json", "--no-cache", *options], cwd=root, timeout=300)
    assert done.returncode in (0, 1, 3), done.stderr
    by_site: dict[tuple[str, int], list[str]] = {}
    for finding in json.loads(done.stdout)["findings"]:
        by_site.setdefault((finding["path"], finding["line"]), []).append(finding["code"])
    return by_site


def test_before_apply_each_legacy_import_site_moves_or_is_reported_at_its_line(tmp_path: Path) -> None:
    root = app_copy(tmp_path, {DIAGNOSTICS: DIAGNOSTICS_SOURCE})
    document = audit(root)
    sites = document["import_sites"]
    assert len(sites) == len(import_locations(document)) > 10
    reported = findings_at(root)
    for site in sites:
        assert site["status"] in ("moves", "reported"), site
        if site["status"] == "reported":
            assert sorted(f["code"] for f in site["findings"]) == sorted(reported[(site["path"], site["line"])])
    staying = {(site["path"], site["line"]): [f["code"] for f in site["findings"]] for site in sites
               if site["status"] == "reported"}
    assert staying == {(DIAGNOSTICS, 5): ["MW109"], (DIAGNOSTICS, 7): ["MW102"]}


def test_after_apply_the_audit_lists_nothing_that_is_not_a_finding_at_its_line(tmp_path: Path) -> None:
    root = app_copy(tmp_path, {DIAGNOSTICS: DIAGNOSTICS_SOURCE})
    applied = run_cli(["--apply"], cwd=root, timeout=300)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    document = audit(root)
    locations = import_locations(document)
    assert sorted(locations) == [(DIAGNOSTICS, 5), (DIAGNOSTICS, 7)]
    reported = findings_at(root)
    assert all(reported.get(location) for location in locations), (locations, reported)
    assert {(s["path"], s["line"]): s["status"] for s in document["import_sites"]} == dict.fromkeys(locations, "reported")
    # the text output names the finding, and the configuration key that would map the unlisted name
    text = run_cli(["audit"], cwd=root, timeout=300).stdout
    assert f"{DIAGNOSTICS}:7: netra_backend.app.websocket_core (stays: MW102 unmapped-name: WebSocketManagerMode " \
           "is imported from legacy module netra_backend.app.websocket_core, whose configured names do not include " \
           "it; left as is (add it to `names` of [tool.migrate-ws.legacy-modules.\"netra_backend.app.websocket_core\"]" \
           in text
    assert f"{DIAGNOSTICS}:5: netra_backend.app.websocket_core (stays: MW109 legacy-import-kept:" in text
    assert "the migration: 0 move, 2 stay with a finding at their line (MW102 1, MW109 1)" in text


def test_the_example_app_alone_leaves_no_legacy_import_after_apply(tmp_path: Path) -> None:
    root = app_copy(tmp_path)
    before = audit(root)
    assert before["import_sites"] and {site["status"] for site in before["import_sites"]} == {"moves"}
    applied = run_cli(["--apply"], cwd=root, timeout=300)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert audit(root)["import_sites"] == []


def generated(root: Path, files: int, seed: int) -> Path:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import make_corpus
    finally:
        sys.path.pop(0)
    make_corpus.generate(str(root), files, seed)
    return root


def test_after_apply_on_a_generated_corpus_every_audit_location_is_a_finding(tmp_path: Path) -> None:
    root = generated(tmp_path / "corpus", 1500, 2)
    options = ("--preset", "netra", "-j", "2")
    before = findings_at(root, *options)
    assert not any("MW110" in codes for codes in before.values()), "an import stays and no step says why"
    git_init_and_commit(root, "Corpus")
    applied = run_cli(["--apply", *options], cwd=root, timeout=600)
    assert applied.returncode in (0, 3), applied.stdout[-3000:] + applied.stderr[-3000:]
    document = audit(root, "--preset", "netra")
    locations = import_locations(document)
    assert locations, "the corpus keeps some legacy imports (module objects passed around, unmapped names)"
    reported = findings_at(root, *options)
    missing = [location for location in locations if not reported.get(location)]
    assert missing == []
    assert {site["status"] for site in document["import_sites"]} == {"reported"}


def test_two_imports_on_one_line_are_judged_one_by_one(tmp_path: Path) -> None:
    """`from pkg import WebSocketManager, WebSocketManagerMode`: the first name moves, the second (not one of
    the package's configured names) stays, with its finding at the same line."""
    mixed = "from netra_backend.app.websocket_core import WebSocketManager, WebSocketManagerMode\n\n\n" \
            "def manager_class():\n    return WebSocketManager, WebSocketManagerMode\n"
    root = app_copy(tmp_path, {DIAGNOSTICS: mixed})
    sites = {(s["line"], s["name"]): (s["status"], [f["code"] for f in s["findings"]])
             for s in audit(root)["import_sites"] if s["path"] == DIAGNOSTICS}
    assert sites == {(1, "WebSocketManager"): ("moves", ["MW102"]), (1, "WebSocketManagerMode"): ("reported", ["MW102"])}
