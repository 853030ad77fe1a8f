"""Plans rendered as unified diffs, patches, summaries and JSON (strings only; no printing)."""

from __future__ import annotations

import json
from collections import Counter

from .diffs import unified_diff
from .findings import Severity
from .model import FileResult, Plan
from .quoting import display_path
from .review import group, plural, reported  # plural: re-exported for the other renderers


def patch(plan: Plan) -> bytes:
    """All changes as one patch that `git apply` accepts, byte for byte."""
    return b"".join(_patch_bytes(r) for r in plan.changed_files)


def _patch_bytes(result: FileResult) -> bytes:
    # headers carry the path as UTF-8 (what git reads); the body is the file's own bytes
    text = unified_diff(result)
    header_end = 0
    for _ in range(4 if result.deleted else 3):
        header_end = text.index("\n", header_end) + 1
    return text[:header_end].encode("utf-8") + text[header_end:].encode("latin-1")


def summary_lines(plan: Plan) -> list[str]:
    changed = plan.changed_files
    skipped = plan.skipped_files
    findings = plan.all_findings
    counts = plan.sites_by_step()
    total = sum(counts.values())
    if not changed and not skipped and not findings:
        kept = f"; {plan.suppressed_count} suppressed" if plan.suppressed_count else ""
        return [f"migrate-ws: nothing to migrate ({_scan_counts(plan)}){kept}."]
    severities = Counter(f.severity for f in findings)
    verb = "would change"
    parts = [f"{plural(len(changed), 'file')} {verb} ({plural(total, 'site')})",
             f"{severities[Severity.WARNING]} manual follow-ups"]
    if severities[Severity.INFO]:
        parts.append(plural(severities[Severity.INFO], "note"))
    if severities[Severity.ERROR]:
        parts.append(plural(severities[Severity.ERROR], "error") + " (--apply refuses)")
    parts.append(f"{plural(len(skipped), 'file')} not processed")
    if plan.suppressed_count:  # sites `# migrate-ws: keep` comments suppressed
        parts.append(f"{plan.suppressed_count} suppressed")
    lines = [f"migrate-ws: {', '.join(parts)}; {_scan_counts(plan)}."]
    by_step = plan.files_by_step()
    for step in plan.steps:
        if counts.get(step):
            lines.append(f"  {step:<15} {plural(counts[step], 'site'):>10} in {plural(len(by_step[step]), 'file'):<9}"
                         f"  {plan.titles.get(step, step)}")
    return lines


def _scan_counts(plan: Plan) -> str:
    text = f"{plural(plan.scanned, 'file')} scanned, {plan.parsed} parsed"
    if plan.cached:
        text += f", {plural(plan.cached, 'result')} reused from the cache"
    return text


def followup_lines(plan: Plan) -> list[str]:
    lines = [f.render() for f in plan.all_findings]
    lines.extend(f"{display_path(r.path)}:{r.line}: {r.code} not processed: {r.reason}" for r in plan.skipped_files)
    return lines


def to_json(plan: Plan, include_diff: bool = True) -> str:
    document = plan.to_json()
    if include_diff:
        diffs = {r.path: unified_diff(r, for_patch=False) for r in plan.changed_files}
        for entry in document["files"]:
            if entry["path"] in diffs:
                entry["diff"] = diffs[entry["path"]]
    document["skipped"] = [{"path": r.path, "code": r.code, "reason": r.reason} for r in plan.skipped_files]
    document["finding_groups"] = [item.to_json() for item in group(reported(plan))]
    return json.dumps(document)  # one line: the C encoder (indent= would use the pure-Python one)


def rejected_rewrites(plan: Plan) -> dict[str, str]:
    """Diffs of rewrites the engine's own checks rejected (never written), for a bug report."""
    from .model import FileStatus

    return {r.path: unified_diff(r, for_patch=False) for r in plan.files
            if r.status is FileStatus.FAILED and r.rewritten}
