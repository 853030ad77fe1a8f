"""`migrate-ws audit` on the example app: each of the five violations before the migration, none after."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from migrate_ws.audit import CHECKS, audit
from migrate_ws.cli import app
from migrate_ws.config import load_preset, parse_config
from migrate_ws.engine import plan

APP = Path(__file__).resolve().parent.parent / "fixtures" / "legacy_app"


def copy_app(tmp_path: Path) -> Path:
    target = tmp_path / "app"
    shutil.copytree(APP, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def migrate_in_place(root: Path) -> None:
    for result in plan(root, load_preset("netra"), jobs=1).changed_files:
        path = root / result.path
        if result.deleted:
            path.unlink()
        else:
            path.write_bytes(result.rewritten)


def test_each_violation_is_reported_before_and_none_after(tmp_path: Path) -> None:
    root = copy_app(tmp_path)
    before = audit(root, load_preset("netra"))
    found = {check for check, findings in before.by_check().items() if findings}
    assert found == set(CHECKS)
    assert len(before.import_paths) > 1
    migrate_in_place(root)
    after = audit(root, load_preset("netra"))
    assert after.findings == [], [f.message for f in after.findings]
    assert list(after.import_paths) == ["netra_backend.app.websocket_core.websocket_manager"]


def test_cli_report_json_and_exit_codes(tmp_path: Path) -> None:
    root = copy_app(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["audit", "-C", str(root)])
    assert result.exit_code == 1
    assert "One implementation" in result.output and "violations." in result.output
    document = json.loads(runner.invoke(app, ["audit", "--json", "-C", str(root)]).output)
    assert document["violations"] >= 5 and set(document["checks"]) == set(CHECKS)
    migrate_in_place(root)
    clean = runner.invoke(app, ["audit", "-C", str(root)])
    assert clean.exit_code == 0, clean.output
    assert "no violations" in clean.output


def test_audit_for_another_codebase(tmp_path: Path) -> None:
    config = parse_config({
        "canonical-module": "shop.payments.client",
        "aliases": {"LegacyPaymentClient": "PaymentClient"},
        "legacy-modules": {"shop.payments.legacy": ["PaymentClient", "LegacyPaymentClient"]},
    }, source="test")
    (tmp_path / "shop" / "payments").mkdir(parents=True)
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "payments" / "__init__.py").write_text("")
    (tmp_path / "shop" / "payments" / "client.py").write_text(
        "from .legacy import OldClient\n\nclass PaymentClient:\n    pass\n\nLegacyPaymentClient = OldClient\n")
    (tmp_path / "shop" / "payments" / "legacy.py").write_text(
        "from .client import PaymentClient\n\nclass OldClient:\n    pass\n\n_instance = None\n")
    report = audit(tmp_path, config)
    checks = {check for check, findings in report.by_check().items() if findings}
    assert checks == {"implementations", "aliases", "factory", "import-cycles"}
