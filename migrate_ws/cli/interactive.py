"""`migrate-ws --apply --interactive`: look at each file's change and accept or reject it.

Step by step, each file a step changes is shown as that step's diff (the file before the
step and after it), coloured on a terminal, with a prompt:

  a  accept this file (all of its steps)       r  reject this file (it stays as it is)
  s  accept the rest of this step               q  quit: reject every file not accepted yet
  ?  help

A rejected file is left out of the change and reported (MW705, "rejected in review"). The
change is then checked again on what was accepted: a file whose rewrite follows a rejected
one (a patch target, a re-exported name) is rejected too; so is every file of a later step
when a file of a step that runs on the canonical module is rejected (the other steps rely
on it); and a change that would break an import a rejected file still makes (a shim that
drops a name it imports) is rejected as well. Each of these says why.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO

from ..editing import step_contents, steps_touching
from ..findings import REJECTED_IN_REVIEW, Finding
from ..leaving_out import relying_on
from ..model import FileResult, Plan
from ..quoting import display_path
from ..report import unified_diff

HELP = ("a: accept this file (all of its steps)   r: reject this file   s: accept the rest of this step   "
        "q: quit (reject every file not accepted yet)   ?: this help")


@dataclass
class Review:
    accepted: set[str] = field(default_factory=set)
    rejected: dict[str, str] = field(default_factory=dict)  # path -> why


def _states(result: FileResult, order: tuple[str, ...], step: str) -> tuple[bytes, bytes]:
    """The file's bytes before and after `step` (the whole change when the steps cannot be told apart)."""
    before = result.original
    for name, content in step_contents(result, order):
        if name == step:
            return before, content or b""
        before = content or b""
    return result.original, result.rewritten


def ask(plan: Plan, paths: set[str], show: Callable[[str], None], read: Callable[[str], str],
        follow: Callable[[Review], None] = lambda review: None) -> Review:
    """The review itself: `show` prints text (a diff, a line), `read` prompts and returns the answer,
    `follow` rejects what relied on a file just rejected (so that it is not asked about)."""
    review = Review()
    order = plan.steps
    results = {r.path: r for r in plan.changed_files if r.path in paths}
    touching = {path: steps_touching(result.edits, order) for path, result in results.items()}
    total = len(results)
    for step in order:
        pending = [path for path in sorted(results)
                   if step in touching[path] and path not in review.accepted and path not in review.rejected]
        accept_rest = False
        for number, path in enumerate(pending, 1):
            if path in review.rejected:
                continue
            if accept_rest:
                review.accepted.add(path)
                continue
            result = results[path]
            before, after = _states(result, order, step)
            diff = unified_diff(FileResult(path, result.status, before, after, deleted=result.deleted and not after),
                                for_patch=False)
            show(f"\n[{step}: {plan.titles.get(step, step)}] {display_path(path)} "
                 f"({number} of {len(pending)} in this step, "
                 f"{len(review.accepted) + len(review.rejected) + 1} of {total} files)")
            show(diff)
            while True:
                answer = read("Accept this change? [a]ccept file, [r]eject file, accept the rest of this [s]tep, "
                              "[q]uit, [?] help: ").strip().lower()[:1]
                if answer in ("a", "r", "s", "q"):
                    break
                show(HELP)
            if answer == "a":
                review.accepted.add(path)
            elif answer == "r":
                review.rejected[path] = "rejected in review"
                known = set(review.rejected)
                follow(review)
                for other in sorted(set(review.rejected) - known):
                    show(f"  also left out: {other} ({review.rejected[other]})")
            elif answer == "s":
                review.accepted.add(path)
                accept_rest = True
            else:
                for other in results:
                    if other not in review.accepted:
                        review.rejected.setdefault(other, "rejected in review (quit before it was shown)")
                return review
    return review


def follow_rejections(plan: Plan, root, paths: list[str], review: Review, candidates: set[str]) -> None:
    """Reject what relied on a rejected file, until nothing more does (the reasons say why);
    only `candidates` (the files this apply would write) can be rejected."""
    more = relying_on(plan, root, paths, review.rejected, candidates)
    review.rejected.update(more)
    review.accepted.difference_update(more)


def review_interactively(plan: Plan, root, paths: list[str], changed: set[str], console: Any,
                         stdin: TextIO) -> list[Finding]:
    """Run the review on a terminal; the files left out, as findings (MW705)."""

    def show(text: str) -> None:
        text = text.rstrip("\n")
        if text.startswith("--- ") and getattr(console, "is_terminal", False) and not console.no_color:
            from rich.syntax import Syntax
            console.print(Syntax(text, "diff", theme="ansi_dark", background_color="default", word_wrap=False))
        else:
            console.print(text, markup=False, highlight=False, soft_wrap=True)

    def read(prompt: str) -> str:
        console.file.write(prompt)
        console.file.flush()
        line = stdin.readline()
        if not line:
            raise KeyboardInterrupt  # the terminal closed: nothing is applied
        return line

    review = ask(plan, changed, show, read, lambda review: follow_rejections(plan, root, paths, review, changed))
    follow_rejections(plan, root, paths, review, changed)
    if review.rejected:
        show(f"\n{len(review.rejected)} of {len(changed)} changed files left out, "
             f"{len(changed) - len(review.rejected)} accepted.")
    return [Finding(REJECTED_IN_REVIEW.code, path, 0, f"not processed: {reason}")
            for path, reason in sorted(review.rejected.items())]


def is_terminal(stream: TextIO = sys.stdin) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
