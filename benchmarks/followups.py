#!/usr/bin/env python3
"""Follow-ups per finding code on the benchmark corpus, without and with a context fallback.

    python benchmarks/followups.py [--files 10000] [--seed 1] [--corpus DIR] [--jobs N] [--config FILE]
                                   [--baseline REV]

Runs `migrate-ws --dry-run --json --no-cache` on a generated (or given) corpus: with the netra
preset as it ships, then with a configuration that adds a context fallback (by default the
netra preset plus `"**/tests/**" = { expression = "create_test_user_context()", import =
"<canonical module>" }`; `--config FILE` gives another); with `--baseline REV`, first with the
netra preset and migrate-ws as it was at that git revision of this repository (read with `git
archive`, nothing is checked out). Prints, per finding code, how many findings each run
reports, in all and outside `tests/` directories, and the change from the first run to the
last; then the wall time of each run (one run each; `benchmarks/run.py --config FILE
--dry-run-only` times the dry-run against the floor properly).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, REPO)

import make_corpus  # noqa: E402  (same directory)

from migrate_ws.findings import CODES  # noqa: E402

FALLBACK_CONFIG = f'''[tool.migrate-ws]
preset = "netra"

[tool.migrate-ws.factory.context-fallbacks]
"**/tests/**" = {{ expression = "create_test_user_context()", import = "{make_corpus.PKG}.websocket_manager" }}
'''


def dry_run(corpus: str, jobs: int, options: list[str], cache: str, code: str = REPO) -> tuple[dict, float]:
    """One dry-run's --json document and wall time, with the migrate_ws package found in `code`."""
    command = [sys.executable, "-m", "migrate_ws", "--dry-run", "--json", "--no-cache", "-C", corpus, "-j", str(jobs),
               *options]
    path = os.pathsep.join(filter(None, [code, os.environ.get("PYTHONPATH")]))
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, cwd=code,
                          env={**os.environ, "MIGRATE_WS_CACHE_DIR": cache, "PYTHONPATH": path})
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1, 3):
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode(errors='replace')[-500:]}")
    return json.loads(done.stdout), elapsed


def in_tests(path: str) -> bool:
    return "/tests/" in f"/{path}"


def counts(document: dict) -> tuple[Counter, Counter]:
    everywhere: Counter = Counter()
    outside: Counter = Counter()
    for finding in document["findings"]:
        everywhere[finding["code"]] += 1
        if not in_tests(finding["path"]):
            outside[finding["code"]] += 1
    return everywhere, outside


def change(before: int, after: int) -> str:
    if before == after:
        return ""
    if before == 0:
        return "new"
    return f"{100 * (after - before) / before:+.1f}%"


def table(runs: list[tuple[str, dict]]) -> list[str]:
    """Per code: each run's count, the change from the first run to the last, and the first and last run's
    counts outside tests/ directories."""
    counted = [counts(document) for _, document in runs]
    first, last = counted[0], counted[-1]
    rows = [("code", "name", "severity", *(label for label, _ in runs), "change",
             "outside tests/: " + runs[0][0], runs[-1][0])]
    codes = sorted(set().union(*(everywhere for everywhere, _ in counted)))
    for code in codes:
        kind = CODES[code]
        rows.append((code, kind.name, kind.severity.value, *(str(everywhere[code]) for everywhere, _ in counted),
                     change(first[0][code], last[0][code]), str(first[1][code]), str(last[1][code])))
    warnings = [c for c in CODES if CODES[c].severity.value == "warning"]
    total = [sum(everywhere[c] for c in warnings) for everywhere, _ in counted]
    rows.append(("", "all warnings (manual follow-ups)", "", *(str(t) for t in total), change(total[0], total[-1]),
                 str(sum(first[1][c] for c in warnings)), str(sum(last[1][c] for c in warnings))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = set(range(3, len(rows[0])))
    lines = []
    for position, row in enumerate(rows):
        lines.append("  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                               for i, (cell, w) in enumerate(zip(row, widths))).rstrip())
        if position == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    make_corpus.add_corpus_options(parser)
    parser.add_argument("--config", help="the configuration with a fallback (default: netra + a **/tests/** fallback)")
    parser.add_argument("--baseline", help="also run migrate-ws as it was at this git revision (netra preset), first")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="migrate-ws-followups-") as workdir:
        if args.corpus:
            corpus = os.path.abspath(args.corpus)
            origin = corpus
        else:
            corpus = os.path.join(workdir, "corpus")
            print(f"generating a {args.files}-file corpus (seed {args.seed})", file=sys.stderr)
            make_corpus.generate(corpus, args.files, args.seed)
            origin = f"generated: --files {args.files} --seed {args.seed}"
        config = os.path.abspath(args.config) if args.config else os.path.join(workdir, "fallback.toml")
        if not args.config:
            with open(config, "w", encoding="utf-8") as handle:
                handle.write(FALLBACK_CONFIG)
        cache = os.path.join(workdir, "cache")
        runs: list[tuple[str, dict, float]] = []
        if args.baseline:
            code = os.path.join(workdir, "baseline")
            os.makedirs(code)
            archive = subprocess.run(["git", "archive", args.baseline, "migrate_ws"], cwd=REPO, capture_output=True,
                                     check=True).stdout
            subprocess.run(["tar", "-x", "-C", code], input=archive, check=True)
            revision = subprocess.run(["git", "rev-parse", "--short", args.baseline], cwd=REPO, capture_output=True,
                                      text=True, check=True).stdout.strip()
            runs.append((f"at {revision}", *dry_run(corpus, args.jobs, ["--preset", "netra"], cache, code)))
        runs.append(("preset", *dry_run(corpus, args.jobs, ["--preset", "netra"], cache)))
        runs.append(("fallback", *dry_run(corpus, args.jobs, ["--config", config], cache)))
    print(f"corpus: {origin}; jobs: {args.jobs}; load average %.2f %.2f %.2f" % os.getloadavg())
    described = args.config or 'the netra preset with the "**/tests/**" fallback'
    print(("at REV: migrate-ws at --baseline with --preset netra; " if args.baseline else "")
          + f"preset: this version with --preset netra; fallback: this version with --config {described}")
    print()
    print("\n".join(table([(label, document) for label, document, _ in runs])))
    print()
    print("dry-run wall time (one run each): " + ", ".join(
        f"{label} {elapsed:.2f} s ({sum(document['summary']['sites'].values())} sites)" for label, document, elapsed in runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
