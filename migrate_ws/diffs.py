"""A file's change as a unified diff: byte-exact for a patch `git apply` accepts, or for display
(strings only; the workers render the display diff, `report.py` the patch and the rest)."""

from __future__ import annotations

import re

from .model import FileResult
from .quoting import git_quoted
from .source import LineIndex, SourceText, split_lines

NO_NEWLINE = "\\ No newline at end of file"


_GIT_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def _lines(data: bytes) -> list[str]:
    # latin-1 maps every byte to one character, so a patch built from it is byte-exact;
    # git splits lines on LF only, so a lone CR stays inside its line here too
    return _GIT_LINE.findall(data.decode("latin-1"))


def _display_lines(data: bytes) -> list[str]:
    try:
        source = SourceText.decode(data)
        return split_lines(source.text)
    except Exception:
        return split_lines(data.decode("utf-8", errors="replace"))


def unified_diff(result: FileResult, for_patch: bool = True, context: int = 3) -> str:
    """The change to one file as a git-style unified diff (byte-exact when `for_patch`)."""
    if not for_patch and result.diff:
        return result.diff
    if result.deleted:
        return _deletion_diff(result, for_patch)
    if not for_patch and result.edits:
        fast = _diff_from_edits(result, context)
        if fast is not None:
            return fast
    before = _lines(result.original) if for_patch else _display_lines(result.original)
    after = _lines(result.rewritten) if for_patch else _display_lines(result.rewritten)
    out = diff_headers(result.path)
    import difflib  # only for a diff to render: a clean run renders none

    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        a_start, a_end, b_start, b_end = first[1], last[2], first[3], last[4]
        out.append(f"@@ -{_range(a_start, a_end)} +{_range(b_start, b_end)} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(_mark(" ", line, for_patch) for line in before[i1:i2])
                continue
            if tag in ("replace", "delete"):
                out.extend(_mark("-", line, for_patch) for line in before[i1:i2])
            if tag in ("replace", "insert"):
                out.extend(_mark("+", line, for_patch) for line in after[j1:j2])
    return "".join(out)


def _deletion_diff(result: FileResult, for_patch: bool) -> str:
    before = _lines(result.original) if for_patch else _display_lines(result.original)
    mode = f"{0o100000 | (result.mode or 0o644):o}"
    out = diff_headers(result.path, deleted_mode=mode)
    if before:
        out.append(f"@@ -{_range(0, len(before))} +0,0 @@\n")
        out.extend(_mark("-", line, for_patch) for line in before)
    return "".join(out)


def _diff_from_edits(result: FileResult, context: int) -> str | None:
    """The display diff built from the declared edits' spans: no sequence matching needed."""
    try:
        original = SourceText.decode(result.original).text
        rewritten = SourceText.decode(result.rewritten).text
    except Exception:
        return None
    return display_diff(result.path, original, rewritten, result.edits, context)


def display_diff(path: str, original: str, rewritten: str, edits: list, context: int = 3,
                 index: "LineIndex | None" = None) -> str | None:
    """The display diff of `original` (whose `LineIndex` the caller may already have) rewritten
    by `edits` into `rewritten`, from the edits' spans; None when they give no hunk."""
    old = index if index is not None else LineIndex(original)
    new_lines = split_lines(rewritten)
    if not old.lines:
        return None
    # changed line blocks in the original, with the matching blocks of the rewrite
    blocks: list[list[int]] = []  # [old_first, old_last, new_first, new_last] (0-based, inclusive / exclusive)
    delta_lines = 0
    for edit in sorted(edits, key=lambda e: e.start):
        first = old.line_of(edit.start) - 1
        last = old.line_of(max(edit.end - 1, edit.start)) - 1 if edit.end > edit.start else first
        if edit.start == edit.end and edit.start == old.length:
            first = last = len(old.lines) - 1
        block_start = old.starts[first]
        block_end = old.starts[last] + len(old.lines[last])
        old_text = original[block_start:block_end]
        new_text = old_text[: edit.start - block_start] + edit.text + old_text[edit.end - block_start:]
        added = len(split_lines(new_text)) - (last - first + 1)
        if blocks and first <= blocks[-1][1]:
            extension = max(0, last + 1 - blocks[-1][1])
            blocks[-1][1] += extension
            blocks[-1][3] += extension + added
        else:
            blocks.append([first, last + 1, first + delta_lines, first + delta_lines + (last - first + 1) + added])
        delta_lines += added
    out = diff_headers(path)
    changes: list[tuple[int, int, int, int]] = []
    for a1, a2, b1, b2 in blocks:
        # the blocks are a few lines each: matching inside them keeps the diff minimal
        import difflib

        matcher = difflib.SequenceMatcher(a=old.lines[a1:a2], b=new_lines[b1:b2], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                changes.append((a1 + i1, a1 + i2, b1 + j1, b1 + j2))
    hunks: list[list] = []
    for a1, a2, b1, b2 in changes:
        if hunks and a1 - hunks[-1][1] <= 2 * context:
            hunks[-1][1], hunks[-1][3] = a2, b2
            hunks[-1][4].append((a1, a2, b1, b2))
        else:
            hunks.append([a1, a2, b1, b2, [(a1, a2, b1, b2)]])
    if not hunks:
        return None
    for a1, a2, b1, b2, changes in hunks:
        start_a = max(0, a1 - context)
        start_b = b1 - (a1 - start_a)
        end_a = min(len(old.lines), a2 + context)
        end_b = b2 + (end_a - a2)
        out.append(f"@@ -{_range(start_a, end_a)} +{_range(start_b, end_b)} @@\n")
        cursor = start_a
        for c_a1, c_a2, c_b1, c_b2 in changes:
            out.extend(_mark(" ", line, False) for line in old.lines[cursor:c_a1])
            out.extend(_mark("-", line, False) for line in old.lines[c_a1:c_a2])
            out.extend(_mark("+", line, False) for line in new_lines[c_b1:c_b2])
            cursor = c_a2
        out.extend(_mark(" ", line, False) for line in old.lines[cursor:end_a])
    return "".join(out)


def diff_headers(path: str, deleted_mode: str | None = None) -> list[str]:
    """A file's `diff --git`, `---` and `+++` lines as git writes them: the name quoted where it
    must be (`git_quoted`), and a tab after it on the `---`/`+++` lines when it holds a space."""
    old, new = git_quoted(path, "a/"), git_quoted(path, "b/")
    tab = "\t" if " " in path else ""
    if deleted_mode is not None:
        return [f"diff --git {old} {new}\n", f"deleted file mode {deleted_mode}\n", f"--- {old}{tab}\n",
                "+++ /dev/null\n"]
    return [f"diff --git {old} {new}\n", f"--- {old}{tab}\n", f"+++ {new}{tab}\n"]


def _range(start: int, end: int) -> str:
    length = end - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def _mark(prefix: str, line: str, for_patch: bool) -> str:
    # git counts only LF as a line end: a last line ending in a lone CR has "no newline"
    if line.endswith("\n") or (not for_patch and line.endswith("\r")):
        return prefix + line if line.endswith("\n") else prefix + line + "\n"
    return f"{prefix}{line}\n{NO_NEWLINE}\n"
