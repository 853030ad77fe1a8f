"""What a reviewer reads: findings grouped by code and directory, the full lists, and a picture.

At monorepo scale a flat list of follow-ups is unreadable (one change left 1,543 of them):
every output summarises them by finding code (count, what it means, what to do, the
top-level directories they are in) with a bounded number of examples per group, and the
complete list goes to files of its own (`FOLLOW_UPS.md`, `follow-ups.json`). Strings in,
strings out.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .findings import CODES, Code, Finding, Severity
from .model import Plan
from .quoting import display_path

EXAMPLES_PER_GROUP = 3
SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def reported(plan: Plan, excluded: Sequence[Finding] = ()) -> list[Finding]:
    """Every finding of the plan, the files it could not process as findings too, then `excluded`."""
    items = list(plan.all_findings)
    items.extend(Finding(r.code or "MW901", r.path, r.line, f"not processed: {r.reason}") for r in plan.skipped_files)
    items.extend(excluded)
    return sorted(items, key=Finding.sort_key)


def top_directory(path: str) -> str:
    head, slash, _ = path.partition("/")
    return f"{head}/" if slash else "(root)"


@dataclass
class FindingGroup:
    """The findings of one code, in the order they are listed."""

    code: Code
    findings: list[Finding] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.findings)

    def directories(self) -> list[tuple[str, int]]:
        return Counter(top_directory(f.path) for f in self.findings).most_common()

    def examples(self, limit: int = EXAMPLES_PER_GROUP) -> list[Finding]:
        """Examples from as many directories as possible, in path order within each."""
        picked: list[Finding] = []
        seen: set[str] = set()
        for finding in self.findings:
            directory = top_directory(finding.path)
            if directory not in seen:
                seen.add(directory)
                picked.append(finding)
            if len(picked) == limit:
                break
        for finding in self.findings:
            if len(picked) >= limit:
                break
            if finding not in picked:
                picked.append(finding)
        return sorted(picked, key=Finding.sort_key)

    def to_json(self, examples: int = EXAMPLES_PER_GROUP) -> dict:
        code = self.code
        return {"code": code.code, "name": code.name, "severity": code.severity.value, "count": self.count,
                "summary": code.summary, "fix": code.fix, "directories": dict(self.directories()),
                "examples": [f.to_json() for f in self.examples(examples)]}


def group(findings: Iterable[Finding]) -> list[FindingGroup]:
    """One group per code: errors first, then by count."""
    groups: dict[str, FindingGroup] = {}
    for finding in findings:
        groups.setdefault(finding.code, FindingGroup(CODES[finding.code])).findings.append(finding)
    return sorted(groups.values(), key=lambda g: (SEVERITY_ORDER[g.code.severity], -g.count, g.code.code))


def directories_text(group_: FindingGroup, limit: int = 4) -> str:
    parts = [f"{directory} {count}" for directory, count in group_.directories()[:limit]]
    rest = len(group_.directories()) - limit
    return ", ".join(parts) + (f", {rest} more" if rest > 0 else "")


def listing_header(findings: Sequence[Finding]) -> str:
    """The heading of `--follow-ups all` (the `reported` findings, one per line below it): the
    manual follow-ups counted apart from the notes."""
    notes = sum(1 for f in findings if f.severity is Severity.INFO)
    return f"Findings ({len(findings)}; {plural(len(findings) - notes, 'manual follow-up')}, {plural(notes, 'note')}):"


def plural(count: int, word: str) -> str:
    """`1 file`, `2 files`: every count the output prints."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def summary_lines(findings: Sequence[Finding], examples: int = EXAMPLES_PER_GROUP) -> list[str]:
    """The grouped summary for the terminal: per code, its count, directories, meaning, what to do, examples."""
    groups = group(findings)
    if not groups:
        return []
    notes = sum(1 for f in findings if f.severity is Severity.INFO)
    counted = f"{len(findings) - notes} manual follow-ups, {notes} notes; " if notes else ""
    lines = [f"Findings by kind ({len(findings)}; {counted}--follow-ups all lists every one):"]
    for position, item in enumerate(groups):
        code = item.code
        if code.severity is Severity.INFO and (position == 0 or groups[position - 1].code.severity is not Severity.INFO):
            lines.append("  Notes (information: nothing to do for the migration):")
        lines.append(f"  {code.code} {code.name} ({code.severity.value}): {item.count} in {directories_text(item)}")
        lines.append(f"      {code.summary}; to do: {code.fix}")
        for finding in item.examples(examples):
            lines.append(f"      {finding.render()}")
        if item.count > examples:
            lines.append(f"      ... and {item.count - examples} more")
    return lines


def followups_markdown(findings: Sequence[Finding], title: str) -> str:
    """The complete list, grouped by code (FOLLOW_UPS.md)."""
    notes = sum(1 for f in findings if f.severity is Severity.INFO)
    out = [f"# Follow-ups: {title}", "", f"{len(findings)} findings ({len(findings) - notes} manual follow-ups, "
           f"{notes} notes), grouped by code.", ""]
    for item in group(findings):
        code = item.code
        out += [f"## {code.code} {code.name} ({code.severity.value}, {item.count})", "",
                f"{code.summary}. What to do: {code.fix}.", ""]
        out += [f"- `{display_path(finding.path)}:{finding.line}` {finding.message}" for finding in item.findings]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def followups_json(findings: Sequence[Finding]) -> str:
    """The complete list for tools (follow-ups.json): the groups and every finding."""
    document = {"count": len(findings), "groups": [g.to_json(examples=0) for g in group(findings)],
                "findings": [f.to_json() for f in findings]}
    return json.dumps(document, indent=1) + "\n"


# ----- the picture -------------------------------------------------------------------------------

def mermaid(plan: Plan) -> list[str]:
    """Import paths before and after as a Mermaid flowchart (GitHub renders it): the legacy modules and
    the canonical module, edges weighted by the number of files whose imports moved."""
    moves = plan.import_moves
    if not moves:
        return []
    modules = sorted({m for pair in moves for m in pair} | set(plan.importers_before) | set(plan.importers_after))
    ids = {module: f"m{position}" for position, module in enumerate(modules)}
    lines = ["```mermaid", "flowchart LR"]
    for module in modules:
        before, after = plan.importers_before.get(module, 0), plan.importers_after.get(module, 0)
        label = f"{module}<br/>imported by {before} file{'' if before == 1 else 's'} before, {after} after"
        lines.append(f'    {ids[module]}["{label}"]')
    for (source, target), count in sorted(moves.items(), key=lambda item: (-item[1], item[0])):
        files = "1 file" if count == 1 else f"{count} files"
        lines.append(f'    {ids[source]} -- "{files}" --> {ids[target]}')
    lines.append("```")
    return lines
