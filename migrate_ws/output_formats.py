"""Machine-readable renderings of a plan for CI: `--output-format text|json|github|sarif`.

- `github`: GitHub Actions workflow commands, one line per site, so they show inline on the
  pull request: `::error` for every pending change (rule MW800) and for error findings,
  `::warning` for manual follow-ups and files not processed, `::notice` for notes; then the
  plain summary. Values are escaped by the workflow-command rules (`%25`, `%0D`, `%0A` in
  the message; `:` and `,` too in a property).
- `sarif`: a SARIF 2.1.0 log for code scanning (`github/codeql-action/upload-sarif`): one
  rule per finding code (MW800 for pending changes), one result per site with its rule,
  level, message and location (a URI relative to the repository, percent-encoded, and the line).

Paths are written relative to the top of the git work tree (found without running git) so
the annotations land on the right files when `--root` is a subdirectory. Strings only; the
CLI prints them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from . import __version__
from .editing import effective
from . import findings as _registry  # the table of codes (`CODES` is not itself a code)
from .findings import PENDING_CHANGE, Code, Severity
from .model import Plan
from .quoting import display_path

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass(frozen=True)
class Site:
    """One place the CI output points at: a pending change or a finding."""

    code: str
    path: str
    line: int
    message: str
    column: int | None = None

    @property
    def rule(self) -> Code:
        return _registry.CODES[self.code]


def pending_sites(plan: Plan) -> list[Site]:
    """Every line a pending change touches, with what the change does there (one site per line)."""
    sites: list[Site] = []
    for result in plan.changed_files:
        if result.deleted:
            sites.append(Site(PENDING_CHANGE.code, result.path, 1, "legacy-modules: the file is deleted"))
            continue
        by_line: dict[int, list[str]] = {}
        for edit in effective(result.edits, plan.steps):
            text = f"{edit.step}: {edit.description}"
            entries = by_line.setdefault(max(1, edit.line), [])
            if text not in entries:
                entries.append(text)
        if not by_line:
            by_line[1] = ["the file changes"]
        for line, texts in sorted(by_line.items()):
            sites.append(Site(PENDING_CHANGE.code, result.path, line, "; ".join(texts)))
    return sites


def pending_lines(plan: Plan) -> list[str]:
    """`--check` in text: where the pending changes are, one line per changed line."""
    sites = pending_sites(plan)
    if not sites:
        return []
    return [f"Would change ({len(sites)}):"] + [f"  {display_path(s.path)}:{s.line}: {s.code} {s.message}"
                                                for s in sites]


def finding_sites(plan: Plan) -> list[Site]:
    sites = [Site(f.code, f.path, f.line, f.message, f.column) for f in plan.all_findings]
    sites += [Site(r.code, r.path, r.line, f"not processed: {r.reason}") for r in plan.skipped_files if r.code]
    return sites


def suppressed_sites(plan: Plan) -> list[Site]:
    """Every site a `# migrate-ws: keep` comment suppressed: a kept change (MW800) or a silenced finding."""
    return [Site(item.code, result.path, item.line, item.message)
            for result in sorted(plan.files, key=lambda r: r.path) for item in result.suppressed]


def suppressed_lines(plan: Plan) -> list[str]:
    """`--show-suppressed` in text output."""
    sites = suppressed_sites(plan)
    if not sites:
        return ["Suppressed by `# migrate-ws: keep` (0)"]
    return [f"Suppressed by `# migrate-ws: keep` ({len(sites)}):"] + \
        [f"  {display_path(s.path)}:{s.line}: {s.code} {s.message}" for s in sites]


def repository_prefix(root: str) -> str:
    """`root` relative to the top of its git work tree, as a prefix ("" at the top or outside git)."""
    top = os.path.abspath(root)
    while not os.path.lexists(os.path.join(top, ".git")):
        parent = os.path.dirname(top)
        if parent == top:
            return ""
        top = parent
    relative = os.path.relpath(os.path.abspath(root), top)
    return "" if relative == "." else relative.replace(os.sep, "/") + "/"


# ----- github -------------------------------------------------------------------------------

def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def github_command(site: Site, prefix: str = "", severity: Severity | None = None) -> str:
    rule = site.rule
    # a name's bytes that are not UTF-8 cannot be said in a workflow command: replaced, not fatal
    path = os.fsencode(prefix + site.path).decode("utf-8", "replace")
    properties = [f"file={escape_property(path)}"]
    if site.line > 0:
        properties.append(f"line={site.line}")
        if site.column is not None:
            properties.append(f"col={site.column + 1}")
    properties.append(f"title={escape_property(f'migrate-ws {rule.code} ({rule.name})')}")
    command = _COMMAND[severity or rule.severity]
    return f"::{command} {','.join(properties)}::{escape_data(site.message)}"


def github(plan: Plan, summary: list[str], show_suppressed: bool = False) -> str:
    """Workflow commands for every pending change and finding, then the plain summary lines."""
    prefix = repository_prefix(plan.root)
    lines = [github_command(site, prefix) for site in pending_sites(plan)]
    lines += [github_command(site, prefix) for site in finding_sites(plan)]
    if show_suppressed:  # as notes: kept on purpose
        lines += [github_command(Site(s.code, s.path, s.line, f"suppressed by # migrate-ws: keep: {s.message}"),
                                 prefix, Severity.INFO) for s in suppressed_sites(plan)]
    return "".join(f"{line}\n" for line in lines + summary)


# ----- sarif --------------------------------------------------------------------------------

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def sarif_rule(code: Code) -> dict:
    return {
        "id": code.code,
        "name": "".join(part.capitalize() for part in code.name.split("-")),
        "shortDescription": {"text": code.summary[:1].upper() + code.summary[1:]},
        "fullDescription": {"text": f"{code.summary[:1].upper() + code.summary[1:]}. What to do: {code.fix}."},
        "help": {"text": f"What to do: {code.fix}.",
                 "markdown": f"**{code.code} {code.name}**: {code.summary}.\n\nWhat to do: {code.fix}."},
        "defaultConfiguration": {"level": _LEVEL[code.severity]},
        "properties": {"tags": ["migrate-ws", code.name]},
    }


def sarif_document(plan: Plan, show_suppressed: bool = False) -> dict:
    prefix = repository_prefix(plan.root)
    codes = sorted(_registry.CODES)
    index = {code: position for position, code in enumerate(codes)}
    results = []

    def result(site: Site, suppressed: bool = False) -> dict:
        location: dict = {"artifactLocation": {"uri": sarif_uri(prefix + site.path), "uriBaseId": "%SRCROOT%"}}
        if site.line > 0:
            location["region"] = {"startLine": site.line}
            if site.column is not None:
                location["region"]["startColumn"] = site.column + 1
        entry = {"ruleId": site.code, "ruleIndex": index[site.code], "level": _LEVEL[site.rule.severity],
                 "message": {"text": site.message}, "locations": [{"physicalLocation": location}]}
        if suppressed:
            entry["suppressions"] = [{"kind": "inSource", "justification": "# migrate-ws: keep"}]
        return entry

    for site in pending_sites(plan) + finding_sites(plan):
        results.append(result(site))
    if show_suppressed:  # results with an in-source suppression: code scanning shows them as dismissed
        results.extend(result(site, suppressed=True) for site in suppressed_sites(plan))
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "migrate-ws", "version": __version__, "semanticVersion": __version__,
                                "rules": [sarif_rule(_registry.CODES[c]) for c in codes]}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": _root_uri(plan.root, prefix)}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def sarif_uri(path: str) -> str:
    """A relative path as the URI reference SARIF requires (RFC 3986): every byte of the name
    outside the unreserved characters and `/` percent-encoded (`tab%09here.py`, `caf%C3%A9.py`)."""
    from urllib.parse import quote

    return quote(os.fsencode(path), safe="/")


def _root_uri(root: str, prefix: str) -> str:
    from pathlib import Path

    top = Path(os.path.abspath(root))
    for _ in range(prefix.count("/")):
        top = top.parent
    uri = top.as_uri()
    return uri if uri.endswith("/") else uri + "/"


def sarif(plan: Plan, show_suppressed: bool = False) -> str:
    return json.dumps(sarif_document(plan, show_suppressed), indent=2) + "\n"
