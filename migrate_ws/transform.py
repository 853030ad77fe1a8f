"""One module's source through every per-file step: analysis, the codemods, the edits.

Strings in, strings out: `transform_source` reads nothing from disk and never raises for
code it cannot handle (what it cannot rewrite becomes a finding); it raises SyntaxError
only when it is given source that does not parse.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from . import kept_imports
from . import steps as step_registry
from . import suppressions
from .analysis import analyze
from .config import Config
from .editing import OverlappingEdits, effective, splice
from .findings import Finding
from .model import Edit, Reference, Targets
from .prefilter import Prefilter, string_markers
from .references import collect as collect_references, lost_module_names
from .scopes import module_name_for
from .source import parse_source
from .textsearch import WordFinder


@dataclass
class SourceOutcome:
    text: str  # the source after every step
    edits: list[Edit]  # every step's edits, each part of the state after its own step
    findings: list[Finding]
    renamed_exports: dict[str, str] = field(default_factory=dict)
    depends_on: set[tuple[str, str]] = field(default_factory=set)
    error: str | None = None
    index: object = None  # the original text's LineIndex, reused by the verification
    references: list[Reference] = field(default_factory=list)  # what the file imports, before and after
    lost_names: set[str] = field(default_factory=set)  # module-level names it no longer binds after the change
    suppressed: list = field(default_factory=list)  # sites `# migrate-ws: keep` comments suppressed (suppressions.py)


class Patterns:
    """Per-process compiled patterns, built once per configuration."""

    config: Config | None = None
    names: set[str] = set()
    finder: WordFinder | None = None
    prefilter: Prefilter | None = None
    markers: tuple[str, ...] = ()

    @classmethod
    def get(cls, config: Config) -> type["Patterns"]:
        if cls.config is not config:
            cls.config = config
            cls.names = step_registry.interesting_names(config)
            cls.finder = WordFinder(cls.names)
            cls.prefilter = Prefilter(config)
            cls.markers = string_markers(config)
        return cls


def file_role(module: str, targets: Targets) -> str:
    """canonical (only steps that run there), definition (left alone), or consumer."""
    config = targets.config
    if module == config.canonical_module:
        return "canonical"
    if module == config.implementation_module or module in targets.definition_modules:
        return "definition"
    return "consumer"


def transform_source(text: str, path: str, targets: Targets, tree: ast.Module | None = None) -> SourceOutcome:
    """Plan and render every edit of every per-file step for one module's source."""
    patterns = Patterns.get(targets.config)
    module, is_package = module_name_for(path)
    role = file_role(module, targets)
    if role == "definition":
        return SourceOutcome(text, [], [])
    if tree is None:
        tree = parse_source(text, path)
    order = step_registry.order()

    def run(kept: frozenset = frozenset()):
        facts = analyze(text, tree, module, is_package, patterns.names, patterns.finder, patterns.markers)
        # the context and the codemods are loaded on first use: a run answered from the cache never needs them
        from .context import FileContext

        context = FileContext(path=path, text=text, facts=facts, targets=targets)
        if kept:
            suppressions.mark_kept(context, kept)
        _run_steps(context, role, targets, order)
        return context

    if not suppressions.has_directives(text):  # `# migrate-ws: keep` comments
        return _finish(run(), text, order)
    context, suppressed, discarded = suppressions.apply(text, tree, run)
    for other in discarded:
        other.facts.release()
    outcome = _finish(context, text, order)
    outcome.suppressed = suppressed
    return outcome


def _run_steps(context, role: str, targets: Targets, order: tuple[str, ...]) -> None:
    for step in step_registry.all_steps():
        if not step.per_file or step.name not in targets.steps:
            continue
        if role == "canonical" and not step.canonical_module:
            continue
        command = step.command()
        context.edits.step = step.name
        if command.applies(context):
            command.transform(context)
    context.statements.render(order)
    if "imports" in targets.steps:
        kept_imports.report(context)  # an import the audit lists that stays is reported at its line


def _finish(context, text: str, order: tuple[str, ...]) -> SourceOutcome:
    """The file's edits in effect, the references and lost names the import check needs, the text."""
    facts = context.facts
    edits = context.edits.edits
    try:
        final = effective(edits, order)
        # an edit inside a span its own step replaced as a whole never takes effect: it is not kept
        kept = [e for e in edits if any(e is k for k in effective(edits, order, e.step))] \
            if len({e.step for e in edits}) > 1 else final
    except OverlappingEdits as exc:
        facts.release()
        return SourceOutcome(text, [], context.edits.findings, error=f"internal error: {exc}")
    references = collect_references(context, final)
    lost = lost_module_names(context, set(context.statements.removed)) if final else set()
    facts.release()
    return SourceOutcome(splice(text, final), sorted(kept, key=lambda e: (e.start, e.end)), context.edits.findings,
                         context.renamed_exports, context.depends_on, None, facts.index, references, lost)
