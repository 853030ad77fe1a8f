"""Semantic differential fuzzing: a migrated module does what it did before, or is left alone.

Hypothesis builds small modules that import a legacy module in every binding form the
migration meets (`import X`, `import X as Y`, `import A.B`, from-imports, `as`, star
imports, re-exports, mixed statements such as `import json, X`, imports in functions, class
bodies, `try/except ImportError` and `if` blocks, `global`) and use what they imported
(attributes, `getattr(X, "name")`, default arguments, comprehensions, decorators, class
attributes, closures, `del`). Each batch of modules is written into a temporary project
with real legacy and canonical modules, run in a subprocess (each module's printed output,
or the exception it ended with), migrated with the real `migrate-ws --fix`, and run again.
Every module must print exactly what it printed before; a module the migration cannot
rewrite safely must be left unchanged, with a finding that says so.

Two layouts: a top-level legacy module moving to a dotted canonical module (`mock` ->
`toolkit.testing.mock`, the shape of `mock` -> `unittest.mock`, kept as it is), and the
netra-like dotted layout (`app.core.manager` -> `app.core.canonical`, with a legacy alias
collapsed to the canonical name, relative imports, and the legacy module retired as a shim).

The default run is bounded and derandomised, like tests/test_fuzz.py (the same batches on
every run, so CI cannot turn red on a new draw): every snippet alone, then a few generated
batches per layout, a few seconds in all. A longer, randomised search:

    MIGRATE_WS_SEMANTIC_FUZZ_EXAMPLES=200 python -m pytest tests/test_semantic_fuzz.py

With MIGRATE_WS_SEMANTIC_FUZZ_REPORT=FILE, every module the binding check rejected (MW704)
is appended to FILE with the reason (the shapes today's rewrites cannot handle yet).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from helpers import write_files
from migrate_ws.cli import app

_REQUESTED = os.environ.get("MIGRATE_WS_SEMANTIC_FUZZ_EXAMPLES")
BATCH = 24  # generated modules per project: one migration and two subprocess runs for all of them

settings.register_profile(
    "migrate-ws-semantic-fuzz",
    max_examples=int(_REQUESTED or "2"),
    deadline=None,
    derandomize=not _REQUESTED,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SEMANTIC = settings.get_profile("migrate-ws-semantic-fuzz")

# Runs each module named on the command line, as __main__, and prints {module: output} as JSON;
# an exception ends that module's output with "!Type: message".
RUNNER = '''\
import contextlib
import io
import json
import runpy
import sys
import warnings

warnings.simplefilter("ignore")
results = {}
for name in sys.argv[1:]:
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            runpy.run_module(name, run_name="__main__")
        results[name] = printed.getvalue()
    except BaseException as exc:
        results[name] = printed.getvalue() + f"!{type(exc).__name__}: {exc}"
print(json.dumps(results))
'''


@dataclass(frozen=True)
class Layout:
    name: str
    files: dict[str, str]  # the project: configuration, legacy and canonical modules
    package: str  # where the generated modules go
    snippets: tuple[str, ...]  # `{n}`: the snippet's number in its module, `{a}`: a name hypothesis picks
    names: tuple[str, ...]  # what `{a}` can be


# ----- a top-level legacy module, a dotted canonical module (mock -> unittest.mock) -------------

TOOLKIT = '''\
"""The canonical home of the test helpers."""


class Thing:
    def __repr__(self):
        return "Thing()"


def helper(value=0):
    return f"helper({value!r})"


def wrap(function):
    def wrapped(*args):
        return f"wrapped({function(*args)!r})"
    return wrapped


VALUE = 42

__all__ = ["Thing", "VALUE", "helper", "wrap"]
'''

TOP_LEVEL = Layout(
    name="top-level",
    files={
        "pyproject.toml": textwrap.dedent('''\
            [tool.migrate-ws]
            canonical-module = "toolkit.testing.mock"

            [tool.migrate-ws.legacy-modules."mock"]
            names = ["Thing", "VALUE", "helper", "wrap"]
            retire = false
            '''),
        "mock.py": '"""The legacy module."""\n\nfrom toolkit.testing.mock import Thing, VALUE, helper, wrap\n\n'
                   '__all__ = ["Thing", "VALUE", "helper", "wrap"]\n',
        "toolkit/__init__.py": "",
        "toolkit/testing/__init__.py": "",
        "toolkit/testing/mock.py": TOOLKIT,
        "gen/__init__.py": "",
    },
    package="gen",
    snippets=(
        "import mock\nprint({n}, mock.helper({n}))\n",
        "import mock as {a}\nprint({n}, {a}.helper({n}))\n",
        "import json, mock\nprint({n}, json.dumps(mock.helper({n})))\n",
        "import os.path, mock as {a}\nprint({n}, {a}.VALUE, os.path.sep)\n",
        "def f{n}():\n    import mock\n    return mock.helper({n})\n\n\nprint({n}, f{n}())\n",
        "class C{n}:\n    import mock\n    v = mock.VALUE\n\n\nprint({n}, C{n}.v, C{n}.mock.helper())\n",
        "try:\n    import mock\nexcept ImportError:\n    mock = None\nprint({n}, mock.helper({n}))\n",
        "if {n} >= 0:\n    import mock as {a}\nprint({n}, {a}.VALUE)\n",
        "def load{n}():\n    global {a}\n    import mock as {a}\n\n\nload{n}()\nprint({n}, {a}.helper({n}))\n",
        "import mock\nprint({n}, getattr(mock, 'helper')({n}))\n",
        "import mock\n\n\ndef g{n}(h=mock.helper):\n    return h({n})\n\n\nprint({n}, g{n}())\n",
        "import mock\nprint({n}, [mock.helper(i) for i in range(2)])\n",
        "import mock\n\n\n@mock.wrap\ndef d{n}():\n    return {n}\n\n\nprint({n}, d{n}())\n",
        "import mock as {a}\nkept{n} = {a}.VALUE\ndel {a}\nprint({n}, kept{n}, '{a}' in dir())\n",
        "from mock import helper\nprint({n}, helper({n}))\n",
        "from mock import helper as {a}\nprint({n}, {a}({n}))\n",
        "from mock import Thing, VALUE\nprint({n}, Thing(), VALUE)\n",
        "from mock import *\nprint({n}, helper({n}), VALUE)\n",
        "from mock import helper as helper\n__all__ = ['helper']\nprint({n}, __all__, helper({n}))\n",
        "from mock import VALUE\nprint({n}, VALUE)\ndel VALUE\nprint({n}, 'VALUE' in dir())\n",
        "import mock\n\n\nclass K{n}:\n    h = staticmethod(mock.helper)\n    t = mock.Thing\n\n\n"
        "print({n}, K{n}.h({n}), K{n}.t())\n",
        "def ff{n}():\n    from mock import helper\n    return helper({n})\n\n\nprint({n}, ff{n}())\n",
        "def late{n}():\n    return mock.VALUE\n\n\nimport mock\nprint({n}, late{n}())\n",
        "import mock as {a}\n\n\ndef outer{n}():\n    def inner():\n        return {a}.helper({n})\n    return inner()\n\n\n"
        "print({n}, outer{n}())\n",
        "import mock\nh{n} = lambda: mock.VALUE\nprint({n}, h{n}())\n",
        "if {n} < 0:\n    v{n} = None\nelse:\n    from mock import VALUE as v{n}\nprint({n}, v{n})\n",
        "try:\n    from mock import helper as {a}\nexcept ImportError:\n    {a} = None\nprint({n}, {a}({n}))\n",
        "import mock\nprint({n}, type(mock).__name__, sorted(n for n in mock.__all__))\n",
    ),
    names=("m", "mod", "mock", "helper", "legacy", "Thing", "json"),
)

# ----- the netra-like dotted layout ------------------------------------------------------------

DOTTED = Layout(
    name="dotted",
    files={
        "pyproject.toml": textwrap.dedent('''\
            [tool.migrate-ws]
            canonical-module = "app.core.canonical"

            [tool.migrate-ws.aliases]
            LegacyManager = "Manager"

            [tool.migrate-ws.legacy-modules."app.core.manager"]
            names = ["Manager", "LegacyManager", "get_manager", "MODE"]
            '''),
        "app/__init__.py": "",
        "app/core/__init__.py": "",
        "app/core/impl.py": 'class _Impl:\n    def __repr__(self):\n        return "Impl()"\n',
        "app/core/canonical.py": '"""The one manager."""\n\nfrom app.core.impl import _Impl\n\nManager = _Impl\n'
                                 'LegacyManager = _Impl\nMODE = "unified"\n\n\ndef get_manager(ctx=None):\n'
                                 '    return f"manager({ctx!r})"\n',
        "app/core/extras.py": 'EXTRA = "extra"\n',
        "app/core/manager.py": '"""The legacy module."""\n\nfrom app.core.canonical import MODE, LegacyManager, '
                               'Manager, get_manager\nfrom app.core.extras import EXTRA\n',
        "app/core/other.py": 'OTHER = "other"\n',
        "app/gen/__init__.py": "",
    },
    package="app.gen",
    snippets=(
        "import app.core.manager\nprint({n}, app.core.manager.get_manager({n}))\n",
        "import app.core.manager\nimport app.core.other\nprint({n}, app.core.manager.MODE, app.core.other.OTHER)\n",
        "import app.core.manager as {a}\nprint({n}, {a}.Manager())\n",
        "from app.core import manager\nprint({n}, manager.get_manager())\n",
        "from app.core import manager as {a}\nprint({n}, getattr({a}, 'MODE'))\n",
        "from app.core.manager import Manager\nprint({n}, Manager())\n",
        "from app.core.manager import LegacyManager\nprint({n}, LegacyManager(), isinstance(LegacyManager(), LegacyManager))\n",
        "from app.core.manager import LegacyManager as {a}\nprint({n}, {a}())\n",
        "from ..core.manager import get_manager\nprint({n}, get_manager('{a}'))\n",
        "from ..core import manager as {a}\nprint({n}, {a}.MODE)\n",
        "from app.core.manager import *\nprint({n}, MODE, get_manager())\n",
        "from app.core.manager import Manager, EXTRA\nprint({n}, Manager(), EXTRA)\n",
        "def f{n}(ctx):\n    from app.core.manager import get_manager\n    return get_manager(ctx)\n\n\nprint({n}, f{n}('c'))\n",
        "try:\n    from app.core.manager import LegacyManager\nexcept ImportError:\n    LegacyManager = None\n"
        "print({n}, LegacyManager)\n",
        "from app.core.manager import get_manager\n\n\ndef g{n}(make=get_manager):\n    return make({n})\n\n\n"
        "print({n}, g{n}())\n",
        "from app.core.manager import LegacyManager\nprint({n}, [type(LegacyManager()).__name__ for _ in range(2)])\n",
        "from app.core.manager import LegacyManager\n\n\nclass Holder{n}:\n    kind = LegacyManager\n\n\n"
        "print({n}, Holder{n}.kind.__name__)\n",
        "from app.core.manager import Manager\nm{n} = Manager()\ndel Manager\nprint({n}, m{n}, 'Manager' in dir())\n",
        "def load{n}():\n    global LegacyManager\n    from app.core.manager import LegacyManager\n\n\nload{n}()\n"
        "print({n}, LegacyManager())\n",
        "from app.core.manager import LegacyManager as LegacyManager\n__all__ = ['LegacyManager']\n"
        "print({n}, len(__all__), LegacyManager())\n",
        "import app.core.manager\nprint({n}, getattr(app.core.manager, 'get_manager')())\n",
        "import json, app.core.manager\nprint({n}, json.dumps(app.core.manager.MODE))\n",
        "if {n} >= 0:\n    from app.core.manager import Manager as {a}\nelse:\n    {a} = None\nprint({n}, {a}())\n",
        "from app.core.manager import LegacyManager\n\n\ndef h{n}(x: 'LegacyManager') -> LegacyManager:\n    return x\n\n\n"
        "print({n}, h{n}.__annotations__['return'].__name__)\n",
        "def late{n}():\n    return get_manager('late')\n\n\nfrom app.core.manager import get_manager\n"
        "print({n}, late{n}())\n",
        "from app.core.manager import LegacyManager\n\n\nclass Sub{n}(LegacyManager):\n    pass\n\n\n"
        "print({n}, Sub{n}.__mro__[1].__name__)\n",
        "import app.core.manager\n\n\ndef via{n}():\n    return app.core.manager.LegacyManager()\n\n\nprint({n}, via{n}())\n",
    ),
    names=("m", "mgr", "manager", "Manager", "LegacyManager", "legacy", "json"),
)

LAYOUTS = (TOP_LEVEL, DOTTED)


def modules(layout: Layout) -> st.SearchStrategy[str]:
    """A module of one to four snippets, each with its number and a name for `{a}`."""
    snippet = st.tuples(st.sampled_from(layout.snippets), st.sampled_from(layout.names))
    return st.lists(snippet, min_size=1, max_size=4).map(
        lambda chosen: '"""Generated."""\n\n' + "\n".join(text.replace("{n}", str(number)).replace("{a}", name)
                                                         for number, (text, name) in enumerate(chosen, 1)))


@dataclass
class Ran:
    module: str
    path: str
    source: str
    before: str
    after: str
    rewritten: str
    findings: list[dict]


def run_modules(root: Path, names: list[str]) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-B", "runner.py", *names], cwd=root, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONHASHSEED": "0"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def migrate_and_compare(layout: Layout, sources: list[str]) -> list[Ran]:
    """Write the project with `sources` as its generated modules, run them, `--fix`, run them again."""
    with tempfile.TemporaryDirectory(prefix=f"semantic-fuzz-{layout.name}-") as folder:
        root = Path(folder)
        folder_of_package = layout.package.replace(".", "/")
        generated = {f"{folder_of_package}/m{number}.py": source for number, source in enumerate(sources)}
        write_files(root, {**layout.files, "runner.py": RUNNER, **generated})
        names = [f"{layout.package}.m{number}" for number in range(len(sources))]
        before = run_modules(root, names)
        fixed = CliRunner().invoke(app, ["--fix", "--json", "-C", str(root), "-j", "1"], catch_exceptions=False)
        assert fixed.exit_code in (0, 1, 3), fixed.output
        document = json.loads(fixed.stdout)
        after = run_modules(root, names)
        findings: dict[str, list[dict]] = {}
        for item in document["findings"] + document["not_processed"]:
            findings.setdefault(item["path"], []).append(item)
        return [Ran(name, path, source, before[name], after[name], (root / path).read_text(encoding="utf-8"),
                    findings.get(path, []))
                for name, (path, source) in zip(names, generated.items())]


def check(layout: Layout, sources: list[str]) -> None:
    results = migrate_and_compare(layout, sources)
    _report_rejections(layout, results)
    problems = []
    for ran in results:
        unchanged = ran.rewritten == ran.source
        if ran.before != ran.after:
            problems.append(f"{ran.path}: the output changed ({'file unchanged' if unchanged else 'rewritten'})\n"
                            f"--- before the migration:\n{ran.source}--- after:\n{ran.rewritten}"
                            f"--- printed before:\n{ran.before}\n--- printed after:\n{ran.after}\n"
                            f"--- findings: {ran.findings}")
        elif unchanged and not ran.findings:
            problems.append(f"{ran.path}: left unchanged without a finding\n{ran.source}")
    assert not problems, "\n\n".join(problems)


def _report_rejections(layout: Layout, results: list[Ran]) -> None:
    target = os.environ.get("MIGRATE_WS_SEMANTIC_FUZZ_REPORT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as report:
        for ran in results:
            for item in ran.findings:
                if item.get("code") == "MW704":
                    reason = item.get("reason") or item.get("message")
                    report.write(f"## {layout.name}: {reason}\n{ran.source}\n")


# ----- the tests ---------------------------------------------------------------------------------

def test_every_snippet_alone_keeps_its_behaviour() -> None:
    for layout in LAYOUTS:
        check(layout, [f'"""One snippet."""\n\n{text.replace("{n}", "1").replace("{a}", name)}'
                       for text in layout.snippets for name in layout.names[:1]])


@SEMANTIC
@given(st.lists(modules(TOP_LEVEL), min_size=BATCH, max_size=BATCH))
def test_generated_modules_top_level_legacy_module(sources: list[str]) -> None:
    check(TOP_LEVEL, sources)


@SEMANTIC
@given(st.lists(modules(DOTTED), min_size=BATCH, max_size=BATCH))
def test_generated_modules_dotted_layout(sources: list[str]) -> None:
    check(DOTTED, sources)
