"""The facts a run remembers next to the result cache are reused only while their sources are unchanged.

Two caches sit beside the result cache: the canonical module's facts (facts-*.json: what it
exports, read from it and its neighbours) and what each imported module provides
(modules-*.json, for the import check). A second run reuses them instead of parsing the
modules again; once a module they were read from changes, they are read again and the
findings are those of a run without any cache. How long a cached `--check` takes is
measured by benchmarks/run.py (its "hook:" rows), not here.
"""

from __future__ import annotations

from pathlib import Path

from helpers import make_shop_repo
from migrate_ws import source
from migrate_ws.config import load_config
from migrate_ws.engine import plan as build_plan


def test_the_canonical_facts_are_reused_until_the_canonical_module_changes(
        tmp_path: Path, monkeypatch) -> None:
    root = make_shop_repo(tmp_path / "shop", pyproject=True)
    cache = tmp_path / "cache"
    config = load_config(root, None, None)
    first = build_plan(root, config, jobs=1, cache_directory=cache)
    assert [r.path for r in first.changed_files] == ["shop/checkout/cart.py", "shop/legacy/payments.py"]
    assert list(cache.glob("facts-*.json"))

    parsed: list[str] = []
    real = source.parse_module_bytes

    def counting(data: bytes, filename: str = "<unknown>"):
        parsed.append(filename)
        return real(data, filename)

    monkeypatch.setattr("migrate_ws.resolution.parse_module_bytes", counting)
    source._PARSED.clear()
    second = build_plan(root, config, jobs=1, cache_directory=cache)
    assert not [name for name in parsed if name.endswith("client.py")]  # the facts came from the cache
    assert [r.path for r in second.changed_files] == [r.path for r in first.changed_files]

    # the canonical module no longer exports the name: the facts are read again
    client = root / "shop" / "payments" / "client.py"
    client.write_text(client.read_text().replace("class PaymentClient:", "class RenamedClient:"))
    third = build_plan(root, config, jobs=1, cache_directory=cache)
    assert any(name.endswith("client.py") for name in parsed)
    assert "MW101" in {f.code for f in third.all_findings}
    uncached = build_plan(root, config, jobs=1)
    assert [(f.code, f.path, f.line) for f in third.all_findings] == \
        [(f.code, f.path, f.line) for f in uncached.all_findings]


def test_what_a_module_provides_is_reused_until_its_file_changes(tmp_path: Path) -> None:
    root = make_shop_repo(tmp_path / "shop", pyproject=True)
    (root / "shop" / "other.py").write_text("VALUE = 1\n")
    (root / "shop" / "checkout" / "broken.py").write_text("from shop.other import LegacyPaymentClient\n")
    cache = tmp_path / "cache"
    config = load_config(root, None, None)

    def already_broken(result) -> list[str]:
        return [f.path for f in result.all_findings if f.code == "MW702"]

    assert already_broken(build_plan(root, config, jobs=1, cache_directory=cache)) == ["shop/checkout/broken.py"]
    assert list(cache.glob("modules-*.json"))
    assert already_broken(build_plan(root, config, jobs=1, cache_directory=cache)) == ["shop/checkout/broken.py"]
    other = root / "shop" / "other.py"
    other.write_text("VALUE = 1\nLegacyPaymentClient = None\n")
    assert already_broken(build_plan(root, config, jobs=1, cache_directory=cache)) == []
    assert already_broken(build_plan(root, config, jobs=1)) == []
