"""The factory step's configured context fallbacks, context types and parameters: the configuration
keys, the signatures read from the repository, and the whole engine on a small repository."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from migrate_ws.config import ConfigError, ContextFallback, load_config, parse_config
from migrate_ws.engine import build_targets, plan
from migrate_ws.import_statements import AliasSpec, rewrite_statement
from migrate_ws.model import Signature
from migrate_ws.resolution import callable_signatures

CANONICAL = "shop.payments.client"
BASE = {
    "canonical-module": CANONICAL,
    "legacy-modules": {"shop.legacy": ["PaymentClient", "create_client"]},
    "factory": {
        "function": "get_client",
        "context-parameter": "context",
        "functions": ["create_client"],
        "classes": ["PaymentClient"],
    },
}


def config_with(**factory):
    table = copy.deepcopy(BASE)
    table["factory"].update(factory)
    return parse_config(table, source="test")


# ----- configuration -------------------------------------------------------------------------

def test_fallbacks_keep_their_order_and_name_the_one_imported_name() -> None:
    config = config_with(**{"context-fallbacks": {
        "tests/": {"expression": "make_test_context()", "import": "shop.testing"},
        "**/tests/**": {"expression": "contexts.for_tests(user='t')", "import": "shop"},
    }})
    assert config.factory.context_fallbacks == (
        ContextFallback("tests/", "make_test_context()", "shop.testing", "make_test_context"),
        ContextFallback("**/tests/**", "contexts.for_tests(user='t')", "shop", "contexts"),
    )


@pytest.mark.parametrize("fallbacks, message", [
    ({"tests/": "make()"}, r'context-fallbacks\."tests/": expected a table'),
    ({"tests/": {"expression": "make()"}}, r'context-fallbacks\."tests/"\.import: required key is missing'),
    ({"tests/": {"import": "shop"}}, r'context-fallbacks\."tests/"\.expression: required key is missing'),
    ({"tests/": {"expression": "make()", "import": "shop", "when": "x"}}, r'"tests/"\.when: unknown key'),
    ({"tests/": {"expression": "make(", "import": "shop"}}, r"is not a Python expression"),
    ({"tests/": {"expression": "make(ctx)", "import": "shop"}}, r"uses 2 names \(ctx, make\)"),
    ({"tests/": {"expression": "42", "import": "shop"}}, r"uses 0 names"),
    ({"tests/": {"expression": "lambda: make()", "import": "shop"}}, r"must be one plain expression"),
    ({"tests/": {"expression": "make(), other()", "import": "shop"}}, r"must be one plain expression"),
    ({"tests/": {"expression": "make()", "import": "not a module"}}, r"\.import: 'not a module' is not a dotted"),
    ({"!tests/": {"expression": "make()", "import": "shop"}}, r"cannot be a negation"),
    ({"#tests": {"expression": "make()", "import": "shop"}}, r"matches nothing"),
])
def test_invalid_fallbacks_are_one_line_errors_naming_the_key(fallbacks, message) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        config_with(**{"context-fallbacks": fallbacks})
    assert "\n" not in str(error.value)
    assert str(error.value).startswith("tool.migrate-ws.factory.context-fallbacks")


def test_parameters_and_context_types_are_checked() -> None:
    assert config_with(parameters=["context", "mode"]).factory.parameters == ("context", "mode")
    assert config_with().factory.parameters is None
    with pytest.raises(ConfigError, match=r"^tool\.migrate-ws\.factory\.parameters: must include the context "
                                          r"parameter 'context'$"):
        config_with(parameters=["mode"])
    with pytest.raises(ConfigError, match=r"^tool\.migrate-ws\.factory\.context-types: 'a.B' is not a valid"):
        config_with(**{"context-types": ["a.B"]})
    assert config_with(**{"context-types": ["RequestContext"]}).factory.context_types == ("RequestContext",)


def test_a_repository_adds_keys_to_the_presets_factory_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.migrate-ws]\npreset = "netra"\n\n[tool.migrate-ws.factory.context-fallbacks]\n'
        '"**/tests/**" = { expression = "create_test_user_context()", import = "netra_backend.app.websocket_core.'
        'websocket_manager" }\n')
    config = load_config(tmp_path)
    assert config.factory.function == "get_websocket_manager"  # the preset's keys stay
    assert config.factory.context_types == ("UserExecutionContext",)
    assert [f.pattern for f in config.factory.context_fallbacks] == ["**/tests/**"]


# ----- what is read from the repository ---------------------------------------------------------

def write(root: Path, path: str, text: str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def shop(root: Path, consumer: str, path: str = "app/consumer.py") -> None:
    write(root, "shop/__init__.py", "")
    write(root, "shop/payments/__init__.py", "")
    write(root, "shop/payments/client.py", '''
class PaymentClient:
    def __init__(self, context=None, region="eu", **options):
        self.context = context


def get_client(context=None, region="eu", *, retries=3):
    return PaymentClient(context, region)


def make_test_context(name="test"):
    return {"user": name}
''')
    write(root, "shop/legacy.py", '''
from shop.payments.client import PaymentClient


def create_client(account_id, context=None):
    return PaymentClient(context)
''')
    write(root, path, consumer)


def test_signatures_are_read_where_the_names_come_from(tmp_path: Path) -> None:
    shop(tmp_path, "")
    factory, signatures = callable_signatures(tmp_path, config_with())
    assert factory == Signature(("context", "region"), ("context", "region", "retries"))
    found = {(module, name): signature for module, name, signature in signatures}
    assert found[("shop.legacy", "create_client")] == Signature(("account_id", "context"), ("account_id", "context"))
    assert found[("shop.legacy", "PaymentClient.__init__")] == Signature(("context", "region"), ("context", "region"),
                                                                         varkw=True)


def test_arguments_are_mapped_by_the_signatures(tmp_path: Path) -> None:
    shop(tmp_path, '''from shop.legacy import PaymentClient, create_client


def charge(context):
    first = PaymentClient(None, "us")
    second = PaymentClient(context, retries=5)
    third = create_client("acct-1", context)
    fourth = PaymentClient(context=context, region="us", timeout=3)
    return first, second, third, fourth
''')
    result = plan(tmp_path, config_with(), jobs=1)
    text = next(r for r in result.files if r.path == "app/consumer.py").rewritten.decode()
    assert "first = get_client(context, region=\"us\")" in text
    assert "second = get_client(context, retries=5)" in text  # a keyword-only parameter of the factory
    assert 'third = create_client("acct-1", context)' in text
    assert "fourth = PaymentClient(context=context, region=\"us\", timeout=3)" in text
    messages = [f.message for f in result.all_findings if f.code == "MW302"]
    assert any("`account_id` has no place in get_client(context, region, retries)" in m for m in messages), messages
    assert any("`timeout` has no place" in m for m in messages), messages


def test_configured_parameters_override_what_is_read(tmp_path: Path) -> None:
    shop(tmp_path, '''from shop.legacy import PaymentClient


def charge(context):
    return PaymentClient(context, retries=5)
''')
    result = plan(tmp_path, config_with(parameters=["context"]), jobs=1)
    assert [f.code for f in result.all_findings if f.path == "app/consumer.py"] == ["MW302"]


def test_a_fallback_rewrites_only_matching_paths_and_adds_its_import(tmp_path: Path) -> None:
    consumer = '''from shop.legacy import create_client


def test_charge():
    return create_client()
'''
    shop(tmp_path, consumer, "tests/test_charge.py")
    write(tmp_path, "app/jobs.py", consumer)
    config = config_with(**{"context-fallbacks": {
        "/tests/": {"expression": "make_test_context()", "import": CANONICAL}}})
    result = plan(tmp_path, config, jobs=1)
    files = {r.path: r for r in result.files}
    assert files["tests/test_charge.py"].rewritten.decode() == (
        "from shop.payments.client import get_client, make_test_context\n\n\n"
        "def test_charge():\n    return get_client(make_test_context())\n")
    assert not files["app/jobs.py"].changed
    codes = {(f.path, f.code) for f in result.all_findings}
    assert ("tests/test_charge.py", "MW307") in codes and ("app/jobs.py", "MW301") in codes
    document = result.to_json()
    assert [f["severity"] for f in document["findings"] if f["code"] == "MW307"] == ["info"]


def test_a_fallback_the_repository_cannot_import_is_a_configuration_error(tmp_path: Path) -> None:
    shop(tmp_path, "")
    config = config_with(**{"context-fallbacks": {
        "tests/": {"expression": "build_context()", "import": CANONICAL}}})
    with pytest.raises(ConfigError, match=r'^factory\.context-fallbacks\."tests/"\.import: shop\.payments\.client '
                                          r"does not bind build_context"):
        build_targets(tmp_path, config, ["factory"])


# ----- an added name joins the import statement it comes from --------------------------------

def test_rewrite_statement_adds_names_in_the_statements_layout() -> None:
    assert rewrite_statement("from a import b", None, None, [(0, AliasSpec("b", None)), (-1, AliasSpec("c", None))]) \
        == "from a import b, c"
    multi = "from a import (\n    b,  # keep\n    d,\n)"
    assert rewrite_statement(multi, None, None, [(0, AliasSpec("b", None)), (1, AliasSpec("d", None)),
                                                 (-1, AliasSpec("c", "e"))]) \
        == "from a import (\n    b,  # keep\n    d,\n    c as e,\n)"
    commented = "from a import (\n    b,\n    d,  # last\n)"
    assert rewrite_statement(commented, None, None, [(0, AliasSpec("b", None)), (1, AliasSpec("d", None)),
                                                     (-1, AliasSpec("c", None))]) \
        == "from a import (\n    b,\n    d,  # last\n    c,\n)"
    assert rewrite_statement("from a import (b, d)", None, None, [(0, AliasSpec("b", None)), (1, AliasSpec("d", None)),
                                                                  (-1, AliasSpec("c", None))]) \
        == "from a import (b, d, c)"


def test_the_context_goes_by_name_where_the_factory_does_not_take_it_first(tmp_path: Path) -> None:
    shop(tmp_path, '''from shop.legacy import create_client


def charge(context):
    return create_client()
''')
    client = tmp_path / "shop/payments/client.py"
    client.write_text(client.read_text().replace("def get_client(context=None, region=\"eu\", *, retries=3):",
                                                 "def get_client(region=\"eu\", context=None, *, retries=3):"))
    result = plan(tmp_path, config_with(), jobs=1)
    text = next(r for r in result.files if r.path == "app/consumer.py").rewritten.decode()
    assert "return get_client(context=context)" in text


def rebinding_shop(root: Path) -> None:
    write(root, "shop/__init__.py", "")
    write(root, "shop/payments/__init__.py", "from shop.payments.client import PaymentClient\n")
    write(root, "shop/payments/impl.py", '''
class _Implementation:
    def __init__(self, context=None, region="eu"):
        self.context = context
''')
    write(root, "shop/payments/client.py", '''from shop.payments.impl import _Implementation


class PaymentClient:
    def __init__(self, *args, **kwargs):
        self.args = args


def get_client(context=None, region="eu"):
    return _Implementation(context, region)
''')
    write(root, "shop/legacy.py", "from shop.payments.client import PaymentClient\n")
    write(root, "app/consumer.py", '''from shop.payments import PaymentClient


def charge(context):
    return PaymentClient(context)
''')


def test_a_class_the_canonical_step_rebinds_is_judged_by_its_implementation(tmp_path: Path) -> None:
    """The canonical module's own class takes `*args`; the canonical step binds the name to the
    implementation, whose constructor names the context. The first run must rewrite the call as the
    second run (which reads the rebound module) would: otherwise applying twice differs from once."""
    table = copy.deepcopy(BASE)
    table["aliases"] = {"LegacyClient": "PaymentClient"}
    table["legacy-modules"] = {"shop.legacy": ["PaymentClient"], "shop.payments": ["PaymentClient"]}
    rebinding_shop(tmp_path / "plain")
    kept = plan(tmp_path / "plain", parse_config(table, source="test"), jobs=1)
    assert any(f.code == "MW302" and f.path == "app/consumer.py" for f in kept.all_findings)

    table["implementation"] = "shop.payments.impl._Implementation"
    config = parse_config(table, source="test")
    root = tmp_path / "rebinding"
    rebinding_shop(root)
    first = plan(root, config, jobs=1)
    changed = {r.path: r for r in first.changed_files}
    assert "return get_client(context)" in changed["app/consumer.py"].rewritten.decode()
    for result in first.changed_files:
        (root / result.path).write_bytes(result.rewritten)
    second = plan(root, config, jobs=1)
    assert [r.path for r in second.changed_files] == []
