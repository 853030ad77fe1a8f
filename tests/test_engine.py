"""The engine over real files: cross-module resolution, canonical exports, prefilter, bad files."""

from __future__ import annotations

import textwrap
from pathlib import Path

from migrate_ws.config import load_preset, parse_config
from migrate_ws.engine import plan
from migrate_ws.model import FileStatus

CORE = "netra_backend/app/websocket_core"


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def layout(root: Path, canonical_wrapper: bool = True) -> None:
    for package in ("netra_backend", "netra_backend/app"):
        write(root, f"{package}/__init__.py", "")
    write(root, f"{CORE}/__init__.py", "from .websocket_manager import WebSocketManager, get_websocket_manager\n")
    write(root, f"{CORE}/unified_manager.py", """
        class _UnifiedWebSocketManagerImplementation:
            def __init__(self, user_context=None):
                self.user_context = user_context
        """)
    wrapper = """
        class WebSocketManager:
            def __init__(self, *args, **kwargs):
                raise RuntimeError("use get_websocket_manager(user_context)")
        """ if canonical_wrapper else "WebSocketManager = _UnifiedWebSocketManagerImplementation\n"
    write(root, f"{CORE}/websocket_manager.py", "from .unified_manager import _UnifiedWebSocketManagerImplementation\n"
          + textwrap.dedent(wrapper) + textwrap.dedent("""
        UnifiedWebSocketManager = _UnifiedWebSocketManagerImplementation
        WebSocketConnectionManager = _UnifiedWebSocketManagerImplementation


        def get_websocket_manager(user_context=None):
            return _UnifiedWebSocketManagerImplementation(user_context)


        def create_websocket_manager(user_context=None):
            return get_websocket_manager(user_context)
        """))
    write(root, f"{CORE}/manager.py", """
        from .websocket_manager import *
        WebSocketManager = UnifiedWebSocketManager
        """)


def by_path(result):
    return {r.path: r for r in result.files}


def test_patch_target_in_consumer_namespace_follows_the_consumer(tmp_path: Path) -> None:
    layout(tmp_path)
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/handlers.py", """
        from netra_backend.app.websocket_core.websocket_manager_factory import create_websocket_manager


        def handle(user_context):
            return create_websocket_manager(user_context)
        """)
    write(tmp_path, "tests/test_handlers.py", """
        from unittest.mock import patch


        @patch("pkg.handlers.create_websocket_manager")
        def test_handle(factory):
            pass
        """)
    result = plan(tmp_path, load_preset("netra"), jobs=1, verify=True)
    files = by_path(result)
    handlers = files["pkg/handlers.py"].rewritten.decode()
    assert "from netra_backend.app.websocket_core.websocket_manager import get_websocket_manager" in handlers
    assert "return get_websocket_manager(user_context)" in handlers
    test = files["tests/test_handlers.py"].rewritten.decode()
    assert '@patch("pkg.handlers.get_websocket_manager")' in test


def test_collapsed_module_level_alias_is_followed_by_importers(tmp_path: Path) -> None:
    layout(tmp_path)
    write(tmp_path, "app/__init__.py", "")
    write(tmp_path, "app/deps.py", """
        from netra_backend.app.websocket_core.manager import UnifiedWebSocketManager

        KIND = UnifiedWebSocketManager
        """)
    write(tmp_path, "app/use.py", """
        from app.deps import UnifiedWebSocketManager

        def check(x):
            return isinstance(x, UnifiedWebSocketManager)
        """)
    result = plan(tmp_path, load_preset("netra"), jobs=1, verify=True)
    use = by_path(result)["app/use.py"].rewritten.decode()
    assert "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager" in use
    assert "isinstance(x, WebSocketManager)" in use


def test_name_missing_from_the_real_canonical_module_is_a_followup(tmp_path: Path) -> None:
    layout(tmp_path)
    write(tmp_path, "app/uses_factory.py", """
        from netra_backend.app.websocket_core.manager import WebSocketManagerFactory

        FACTORY = WebSocketManagerFactory
        """)
    result = plan(tmp_path, load_preset("netra"), jobs=1)
    assert "app/uses_factory.py" not in {r.path for r in result.changed_files}
    reasons = [f.render() for f in result.all_findings]
    assert any(r.startswith("app/uses_factory.py:1:") and "does not export WebSocketManagerFactory" in r for r in reasons)


def test_differing_bindings_without_implementation_keep_aliases(tmp_path: Path) -> None:
    layout(tmp_path)
    write(tmp_path, "app/consumer.py", """
        from netra_backend.app.websocket_core.manager import UnifiedWebSocketManager

        KIND = UnifiedWebSocketManager
        """)
    preset = load_preset("netra")
    config = type(preset)(**{**preset.__dict__, "implementation": None})
    result = plan(tmp_path, config, jobs=1)
    warnings = [f.message for f in result.findings if f.code == "MW504"]
    assert warnings and "UnifiedWebSocketManager" in warnings[0] and "_UnifiedWebSocketManagerImplementation" in warnings[0]
    text = by_path(result)["app/consumer.py"].rewritten.decode()
    assert "from netra_backend.app.websocket_core.websocket_manager import UnifiedWebSocketManager" in text
    assert "KIND = UnifiedWebSocketManager" in text


def test_same_bindings_collapse_without_implementation(tmp_path: Path) -> None:
    layout(tmp_path, canonical_wrapper=False)
    write(tmp_path, "app/consumer.py", """
        from netra_backend.app.websocket_core.manager import UnifiedWebSocketManager

        KIND = UnifiedWebSocketManager
        """)
    preset = load_preset("netra")
    config = type(preset)(**{**preset.__dict__, "implementation": None})
    result = plan(tmp_path, config, jobs=1)
    assert not [f for f in result.findings if f.code == "MW504"]
    assert "KIND = WebSocketManager" in by_path(result)["app/consumer.py"].rewritten.decode()


def test_files_without_legacy_text_are_not_parsed(tmp_path: Path) -> None:
    layout(tmp_path)
    for number in range(5):
        write(tmp_path, f"other/mod{number}.py", "def manager_of(x):\n    return x\n")
    write(tmp_path, "other/broken.py", "def broken(:\n")
    result = plan(tmp_path, load_preset("netra"), jobs=1)
    assert result.scanned == 12
    assert result.parsed <= 5  # only the websocket_core files that name managers
    assert "other/broken.py" not in by_path(result)


def test_unparseable_and_newer_python_files_are_reported_and_left_alone(tmp_path: Path) -> None:
    layout(tmp_path)
    write(tmp_path, "app/broken.py", "from netra_backend.app.websocket_core.manager import WebSocketManager\ndef f(:\n")
    write(tmp_path, "app/newer.py", 'from netra_backend.app.websocket_core.manager import WebSocketManager\n'
                                    'x = {"k": 1}\ny = f"{x["k"]}"\n')
    result = plan(tmp_path, load_preset("netra"), jobs=1)
    files = by_path(result)
    assert files["app/broken.py"].status is FileStatus.SKIPPED
    assert "does not parse" in files["app/broken.py"].reason
    import sys
    if sys.version_info < (3, 12):
        assert files["app/newer.py"].status is FileStatus.SKIPPED
        assert "newer Python" in files["app/newer.py"].reason
    else:
        assert files["app/newer.py"].status is FileStatus.CHANGED


def test_parallel_and_serial_runs_agree(tmp_path: Path) -> None:
    layout(tmp_path)
    for number in range(80):
        write(tmp_path, f"app/m{number}.py", f"""
            from netra_backend.app.websocket_core.manager import UnifiedWebSocketManager as M{number}

            def make(user_context):
                return M{number}()
            """)
    serial = plan(tmp_path, load_preset("netra"), jobs=1)
    parallel = plan(tmp_path, load_preset("netra"), jobs=2)
    assert [(r.path, r.rewritten) for r in serial.changed_files] == [(r.path, r.rewritten) for r in parallel.changed_files]
    assert len(serial.changed_files) == 81


def test_other_codebase_configuration(tmp_path: Path) -> None:
    config = parse_config({
        "canonical-module": "shop.payments.client",
        "aliases": {"LegacyPaymentClient": "PaymentClient"},
        "legacy-modules": {"shop.legacy.payments": ["PaymentClient", "LegacyPaymentClient"]},
    }, source="test")
    write(tmp_path, "shop/payments/client.py", "class PaymentClient:\n    pass\nLegacyPaymentClient = PaymentClient\n")
    write(tmp_path, "shop/legacy/payments.py", "from shop.payments.client import *\n")
    write(tmp_path, "shop/checkout.py", """
        from shop.legacy.payments import LegacyPaymentClient

        def pay() -> LegacyPaymentClient:
            return LegacyPaymentClient()
        """)
    result = plan(tmp_path, config, jobs=1, verify=True)
    text = by_path(result)["shop/checkout.py"].rewritten.decode()
    assert text == "from shop.payments.client import PaymentClient\n\ndef pay() -> PaymentClient:\n    return PaymentClient()\n"


def test_a_retiring_legacy_module_gone_after_the_facts_were_read_is_reported_not_planned(
        legacy_repo: Path, monkeypatch) -> None:
    """What retiring each legacy module means is read before the steps run; a module deleted in
    between (by the user, a checkout) is reported as not readable, and no shim is planned for it."""
    import migrate_ws.engine as engine
    from migrate_ws.findings import CANNOT_READ

    config = load_preset("netra")
    path = "netra_backend/app/websocket_core/manager.py"
    legacy = legacy_repo / path
    assert path in {r.path for r in plan(legacy_repo, config).changed_files}  # a shim, when it is there
    gather = engine.gather_facts

    def gather_then_delete(*args, **kwargs):
        facts = gather(*args, **kwargs)
        legacy.unlink()
        return facts

    monkeypatch.setattr(engine, "gather_facts", gather_then_delete)
    result = plan(legacy_repo, config)
    assert path not in {r.path for r in result.changed_files}
    assert [f.message for f in result.findings if f.path == path and f.code == CANNOT_READ.code] \
        == ["not processed: cannot read: No such file or directory"]
