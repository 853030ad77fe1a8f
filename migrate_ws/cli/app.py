"""`migrate-ws`: dry-run (default), check, apply, abort; `migrate-ws audit`. Exit codes: `exit_codes.py`."""

# No `from __future__ import annotations` here: typer reads the commands' signatures on every
# run, and string annotations make it evaluate each `Annotated[..., typer.Option(...)]` twice
# (a fifth of a one-file --check). Names imported only for type checking are quoted.

import contextlib
import importlib
import os
import re
import sys
import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from .. import __version__
from ..exit_codes import ExitCode, UsageError
from .paths import PathsGroup, given_paths
from .terminal import make_consoles, say

if TYPE_CHECKING:
    from ..model import Plan

# The engine, the configuration and the renderers are imported by the commands that use them,
# so that --help, --version and a usage error answer at once; the apply machinery, rich and
# GitPython only on the paths that need them (a --check in a pre-commit hook never does).

# typer 0.28 carries its own copy of click (`typer._click`), older versions use click itself
_CLICK = typer.BadParameter.__module__.rpartition(".")[0]
_click_exceptions = importlib.import_module(f"{_CLICK}.exceptions")
BadOptionUsage, BadParameter = _click_exceptions.BadOptionUsage, _click_exceptions.BadParameter
ClickException, NoSuchOption = _click_exceptions.ClickException, _click_exceptions.NoSuchOption
ParameterSource = importlib.import_module(f"{_CLICK}.core").ParameterSource

# `--help` shows the options in these groups, in this order (typer keeps the name on each option)
MODES, SCOPE, APPLY, OUTPUT = "Modes", "What to migrate", "--apply options", "Output"
HELP_GROUPS = (MODES, SCOPE, APPLY, OUTPUT)


def _preset_names() -> list[str]:
    # the files `config.available_presets` reads, listed without importing the configuration code
    try:
        return sorted(name[:-5] for name in os.listdir(Path(__file__).resolve().parent.parent / "presets")
                      if name.endswith(".toml"))
    except OSError:
        return []


PRESET_HELP = f"Use a built-in preset: {', '.join(_preset_names()) or 'none installed'}."

EXIT_CODES = """\b
Exit codes:
  0    nothing to change; --apply, --fix or --abort done
  1    changes pending (--dry-run, --check); --fix rewrote files;
       --apply or --abort refused, nothing written
  2    usage or configuration error
  3    nothing pending, but some files were not processed (listed)
  4    --apply or --fix failed; the repository was restored
  123  internal error
  130  interrupted"""


def usage_error_text(error: Any, command_name: Optional[str] = None) -> str:
    """A usage error of the command line as one line (no usage block, no guessed options)."""
    message = " ".join(error.message.split())
    if isinstance(error, NoSuchOption):
        text = message[:1].lower() + message[1:]
        command = error.ctx.command if error.ctx is not None else None
        known = [name for param in getattr(command, "params", ())
                 for name in [*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())] if name.startswith("--")]
        import difflib

        close = difflib.get_close_matches(error.option_name, known, n=1, cutoff=0.8)
        if close:
            text += f" (did you mean {close[0]}?)"
    elif isinstance(error, BadOptionUsage) and message.endswith("requires an argument."):
        text = f"{error.option_name} needs a value"
    elif isinstance(error, BadParameter) and error.param is not None and error.param.opts:
        names = [name for name in error.param.opts if name.startswith("--")] or list(error.param.opts)
        text = f"{names[0]}: {message.rstrip('.')}"
        text = text.replace("is not a valid int range", "is not a whole number") \
            .replace("is not a valid integer", "is not a whole number")
        text = re.sub(r"(\S+) is not in the range x>=(\d+)$", r"\1 is less than \2", text)
    else:
        text = message[:1].lower() + message[1:].rstrip(".")
    return f"{command_name}: {text}" if command_name else text


@contextlib.contextmanager
def one_line_usage_errors(command_name: Any = None):
    try:
        yield
    except ClickException as error:
        sys.stderr.write(f"migrate-ws: error: {usage_error_text(error, command_name)}\n")
        raise typer.Exit(error.exit_code) from None


class FrontDoor(PathsGroup):
    """The main command's group: one line for every usage error, options grouped in `--help`."""

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        with one_line_usage_errors():  # the main command's options
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ClickException as error:  # a subcommand's options (click names the subcommand first)
            with one_line_usage_errors(ctx.invoked_subcommand):
                raise error

    def format_options(self, ctx: Any, formatter: Any) -> None:
        groups: dict[str, list[tuple[str, str]]] = {name: [] for name in HELP_GROUPS}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                groups.setdefault(getattr(param, "rich_help_panel", None) or "Other options", []).append(record)
        for name, records in groups.items():
            if records:
                with formatter.section(name):
                    formatter.write_dl(records)
        self.format_commands(ctx, formatter)


app = typer.Typer(
    name="migrate-ws",
    help="Safe, reviewable import migrations: every import of the legacy modules moved to one canonical path.",
    epilog=EXIT_CODES,
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=FrontDoor,  # `migrate-ws [OPTIONS] [PATH]...` next to `migrate-ws audit`
)


class FollowUpsShown(str, Enum):
    summary = "summary"
    all = "all"


class LegacyModulePolicy(str, Enum):
    shim = "shim"
    delete = "delete"
    keep = "keep"


class OutputFormat(str, Enum):  # see output_formats.py
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


def fail(console: Any, message: str, code: int) -> typer.Exit:
    say(console, f"migrate-ws: error: {message}")
    return typer.Exit(code)


def resolve_root(root: Path) -> Path:
    if not root.exists():
        raise UsageError(f"--root {root}: no such directory")
    if not root.is_dir():
        raise UsageError(f"--root {root}: not a directory")
    return root.resolve()


def run_plan(root: Path, config, err: Any, jobs: Optional[int], todo_comments: bool = False,
             show_progress: bool = True, with_diffs: bool = False, cache_directory: Optional[Path] = None,
             legacy_policy: str = "shim", only: Optional[list[str]] = None) -> "Plan":
    """Run the engine, with a progress bar on a terminal when the run takes more than a second."""
    from ..engine import plan as build_plan

    options = dict(jobs=jobs, todo_comments=todo_comments, with_diffs=with_diffs, cache_directory=cache_directory,
                   legacy_policy=legacy_policy, only=only)
    if not (show_progress and err.is_terminal):
        return build_plan(root, config, **options)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # a bar for a run that ends within a second would only flicker; the variable lets a test
    # (or an impatient user) see it at once
    try:
        delay = float(os.environ.get("MIGRATE_WS_PROGRESS_DELAY", "1.0"))
    except ValueError:
        delay = 1.0
    started = time.monotonic()
    progress = Progress(TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err, transient=True)
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if task is None and time.monotonic() - started > delay:
            progress.start()
            task = progress.add_task("scan", total=total)
        if task is not None:
            progress.update(task, completed=done, total=total)

    try:
        return build_plan(root, config, progress=update, **options)
    finally:
        if task is not None:
            progress.stop()


def print_diff(console: Any, result_plan: "Plan") -> None:
    from ..report import unified_diff

    for result in result_plan.changed_files:
        text = unified_diff(result, for_patch=False)
        if console.no_color or not console.is_terminal:
            console.file.write(text)
        else:
            from rich.syntax import Syntax

            console.print(Syntax(text, "diff", theme="ansi_dark", background_color="default", word_wrap=False))


def print_lines(console: Any, lines: list[str]) -> None:
    if console.is_terminal:
        for line in lines:
            say(console, line)
    else:
        # rich measures and wraps every line it prints: piped output (CI logs, files) skips that
        console.file.write("".join(f"{line}\n" for line in lines))


def print_report(console: Any, result_plan: "Plan", follow_ups: str = "summary") -> None:
    from .. import review
    from ..report import followup_lines, summary_lines

    lines = summary_lines(result_plan)
    if follow_ups == "summary":
        lines += review.summary_lines(review.reported(result_plan))
    else:
        follow = followup_lines(result_plan)
        if follow:
            lines.append(review.listing_header(review.reported(result_plan)))
            lines += [f"  {line}" for line in follow]
    print_lines(console, lines)


def save_rejected(err: Any, result_plan: "Plan") -> None:
    """Keep the diff of every rewrite the engine rejected, so it can be attached to a bug report."""
    from ..report import plural, rejected_rewrites

    rejected = rejected_rewrites(result_plan)
    if not rejected:
        return
    import tempfile

    from ..writer import NAME_MAX, fit_name

    folder = Path(tempfile.mkdtemp(prefix="migrate-ws-bug-report-"))
    for number, (path, diff) in enumerate(sorted(rejected.items())):
        name = fit_name(path.replace("/", "__"), NAME_MAX - len(f"{number:03d}-.diff"))  # a deep path is long
        (folder / f"{number:03d}-{name}.diff").write_text(diff, encoding="utf-8")
    say(err, f"migrate-ws: {plural(len(rejected), 'rewrite')} failed the safety checks and were not written; "
             f"their diffs are in {folder} (please attach them to a bug report)")


def exit_code_for(result_plan: "Plan") -> int:
    if result_plan.pending or result_plan.errors:
        return ExitCode.PENDING
    if result_plan.skipped_files:
        return ExitCode.UNPROCESSED
    return ExitCode.CLEAN


def check_mode_options(apply: bool, given: dict[str, bool]) -> None:
    """Options that only make sense with (or without) --apply are refused, not ignored."""
    only_apply = ("--branch", "--test-cmd", "--rollback-on-fail", "--open-pr", "--pr-body", "--allow-dirty", "--no-git",
                  "--split-by", "--max-files", "--interactive")
    if not apply:
        for option in only_apply:
            if given.get(option):
                raise UsageError(f"{option} only applies to --apply")
    elif given.get("--diff-output"):
        raise UsageError("--diff-output only applies to --dry-run and --check (the branch --apply makes is the diff)")


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"migrate-ws {__version__}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def main_command(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", rich_help_panel=MODES, help="Show the whole change as a unified diff (the default).")] = False,
    check: Annotated[bool, typer.Option("--check", rich_help_panel=MODES, help="Print the summary only; exit 1 when anything is pending.")] = False,
    apply: Annotated[bool, typer.Option("--apply", rich_help_panel=MODES, help="Write the change to a new git branch as reviewable commits.")] = False,
    abort: Annotated[bool, typer.Option("--abort", rich_help_panel=MODES, help="Put the repository back as it was before an interrupted --apply.")] = False,
    fix: Annotated[bool, typer.Option("--fix", rich_help_panel=MODES, help="Write the change in place, without git (the fixing pre-commit hook); exit 1 when files were rewritten.")] = False,
    root: Annotated[Path, typer.Option("--root", "-C", rich_help_panel=SCOPE, help="Repository root to migrate.", show_default="current directory")] = Path("."),
    config_file: Annotated[Optional[Path], typer.Option("--config", rich_help_panel=SCOPE, help="Read [tool.migrate-ws] from this TOML file.")] = None,
    preset: Annotated[Optional[str], typer.Option("--preset", rich_help_panel=SCOPE, help=PRESET_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", rich_help_panel=OUTPUT, help="Print a JSON report instead of the diff.")] = False,
    diff_output: Annotated[Optional[Path], typer.Option("--diff-output", rich_help_panel=OUTPUT, help="Also write the change as a patch file for `git apply`.")] = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", rich_help_panel=SCOPE, min=1, help="Worker processes.", show_default="all cores")] = None,
    color: Annotated[Optional[bool], typer.Option("--color/--no-color", rich_help_panel=OUTPUT, help="Force colour on or off.", show_default="auto")] = None,
    split_by: Annotated[Optional[str], typer.Option("--split-by", rich_help_panel=APPLY, help="--apply as one foundation branch and one branch per slice: owners (CODEOWNERS) or directory[:DEPTH].")] = None,
    max_files: Annotated[Optional[int], typer.Option("--max-files", rich_help_panel=APPLY, min=1, help="With --split-by: cut a slice larger than this into numbered parts.")] = None,
    follow_ups: Annotated[FollowUpsShown, typer.Option("--follow-ups", rich_help_panel=OUTPUT, help="How to print the follow-ups: grouped by finding code with examples, or every line.")] = FollowUpsShown.summary,
    todo_comments: Annotated[bool, typer.Option("--todo-comments", rich_help_panel=SCOPE, help="Add a `# TODO(migrate-ws): ...` line at sites left for a person.")] = False,
    branch: Annotated[Optional[str], typer.Option("--branch", rich_help_panel=APPLY, help="Branch for --apply.", show_default="migrate-ws/<preset>-<date>")] = None,
    pr_body: Annotated[Optional[Path], typer.Option("--pr-body", rich_help_panel=APPLY, help="Where --apply writes the PR description.", show_default="<git dir>/migrate-ws/PR_DESCRIPTION.md")] = None,
    allow_dirty: Annotated[bool, typer.Option("--allow-dirty", rich_help_panel=APPLY, help="Let --apply run on a dirty working tree.")] = False,
    no_git: Annotated[bool, typer.Option("--no-git", rich_help_panel=APPLY, help="--apply in place, without git (not a repository).")] = False,
    legacy_modules: Annotated[LegacyModulePolicy, typer.Option("--legacy-modules", rich_help_panel=SCOPE, help="What the change does with the retiring legacy modules.")] = LegacyModulePolicy.shim,
    test_cmd: Annotated[Optional[str], typer.Option("--test-cmd", rich_help_panel=APPLY, help="Run the project's tests on the new branch and record the result.")] = None,
    rollback_on_fail: Annotated[bool, typer.Option("--rollback-on-fail", rich_help_panel=APPLY, help="Remove the branch when --test-cmd fails.")] = False,
    interactive: Annotated[bool, typer.Option("--interactive", "-i", rich_help_panel=APPLY, help="--apply: show each file's change step by step and accept or reject it.")] = False,
    open_pr: Annotated[bool, typer.Option("--open-pr", rich_help_panel=APPLY, help="Open the PR with `gh pr create` when gh is installed.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", rich_help_panel=SCOPE, help="Neither read nor write the result cache (see MIGRATE_WS_CACHE_DIR).")] = False,
    # --output-format, --show-suppressed (PATH arguments: paths.py)
    output_format: Annotated[Optional[OutputFormat], typer.Option("--output-format", rich_help_panel=OUTPUT, help="text, json, github (workflow commands for inline annotations) or sarif (SARIF 2.1.0 for code scanning).", show_default="text")] = None,
    show_suppressed: Annotated[bool, typer.Option("--show-suppressed", rich_help_panel=OUTPUT, help="Also list the sites `# migrate-ws: keep` comments suppress.")] = False,
    version: Annotated[Optional[bool], typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version.")] = None,
) -> None:
    """Migrate every import of the configured legacy modules to the canonical module.

    Run `migrate-ws --dry-run` to see the change, `migrate-ws --apply` to commit it to a new branch.
    With PATH arguments (files and directories), only those files are changed and reported.
    """
    if ctx.invoked_subcommand is not None:  # `migrate-ws -C DIR audit`: the options audit shares apply to it
        ctx.obj = hand_down_options(ctx, {"root": root, "config_file": config_file, "preset": preset,
                                          "as_json": as_json, "color": color})
        return
    from ..config import ConfigError, load_config
    from ..discovery import DiscoveryError, discover

    out, err = make_consoles(color)
    try:
        if sum([dry_run, check, apply, abort, fix]) > 1:
            raise UsageError("--dry-run, --check, --fix, --apply and --abort: choose one")
        # PATH arguments, --fix, --output-format (--json is its alias), --show-suppressed
        paths = given_paths(ctx) or None
        fmt = keep_migrated_options(paths, as_json, output_format, show_suppressed, fix=fix, apply=apply,
                                    abort=abort, diff_output=diff_output is not None)
        as_json = fmt == "json"
        check_mode_options(apply, {
            "--branch": branch is not None, "--test-cmd": test_cmd is not None, "--rollback-on-fail": rollback_on_fail,
            "--open-pr": open_pr, "--pr-body": pr_body is not None, "--allow-dirty": allow_dirty, "--no-git": no_git,
            "--diff-output": diff_output is not None, "--split-by": split_by is not None, "--max-files": max_files is not None,
            "--interactive": interactive,
        })
        if interactive:
            from .interactive import is_terminal

            if as_json:
                raise UsageError("--interactive asks questions on the terminal; it cannot be used with --json")
            if not is_terminal(sys.stdin):
                raise UsageError("--interactive needs a terminal to ask on (standard input is not one)")
        if max_files is not None and split_by is None:
            raise UsageError("--max-files only applies with --split-by")
        if split_by is not None:
            if no_git:
                raise UsageError("--split-by makes branches; it cannot be used with --no-git")
            from ..slicing import SplitBy, SplitError

            try:
                SplitBy.parse(split_by)
            except SplitError as exc:
                raise UsageError(str(exc)) from None
        repository = resolve_root(root)
        if abort:  # recovery: undo an --apply killed half way (see applying/abort.py)
            from .abort_command import run_abort

            raise typer.Exit(run_abort(out, err, repository))
        config = load_config(repository, config_file, preset)
        if config.detected:
            say(err, f"migrate-ws: no configuration found; using the built-in {config.name} preset, because its "
                     f"canonical module {config.canonical_module} is in this repository")
        if paths is not None and (apply or fix):  # every path is checked before anything is locked or written
            discover(repository, config, paths=paths)
        if fix:  # in place, without git (fix_command.py)
            from .fix_command import run_fix

            raise typer.Exit(run_fix(out, err, repository, config, only=paths, jobs=jobs,
                                     legacy_policy=legacy_modules.value, todo_comments=todo_comments, as_json=as_json))
        if apply:
            from .apply_command import run_apply

            from .apply_command import Options

            code = run_apply(out, err, repository, config, Options(
                jobs=jobs, branch=branch, pr_body=pr_body, allow_dirty=allow_dirty, no_git=no_git,
                legacy_policy=legacy_modules.value, test_cmd=test_cmd, rollback_on_fail=rollback_on_fail,
                open_pr=open_pr, todo_comments=todo_comments, as_json=as_json, follow_ups=follow_ups.value,
                split_by=split_by, max_files=max_files, interactive=interactive, only=paths,
            ))
            raise typer.Exit(code)
        from .abort_command import interrupted_apply_warning  # recovery: say so when an --apply was interrupted

        if (warning := interrupted_apply_warning(repository)) is not None:
            say(err, f"migrate-ws: warning: {warning}")
        result_plan = run_plan(repository, config, err, jobs, todo_comments=todo_comments,
                               show_progress=fmt == "text", with_diffs=as_json or (fmt == "text" and not check),
                               legacy_policy=legacy_modules.value, only=paths,
                               cache_directory=None if no_cache else cache_directory())
        from ..report import patch, summary_lines, to_json

        save_rejected(err, result_plan)
        if diff_output is not None:
            try:
                diff_output.write_bytes(patch(result_plan))
            except OSError as exc:
                raise UsageError(f"--diff-output {diff_output}: {exc.strerror}") from None
        if as_json:
            out.file.write(to_json(result_plan) + "\n")
        elif fmt in ("github", "sarif"):
            from .. import output_formats

            text = output_formats.github(result_plan, summary_lines(result_plan), show_suppressed) \
                if fmt == "github" else output_formats.sarif(result_plan, show_suppressed)
            out.file.write(text)
        else:
            if not check:
                print_diff(out, result_plan)
            elif result_plan.changed_files:  # --check names what is pending (it shows no diff)
                from ..output_formats import pending_lines

                print_lines(out, pending_lines(result_plan))
            print_report(out, result_plan, follow_ups.value)
            if show_suppressed:
                from ..output_formats import suppressed_lines

                print_lines(out, suppressed_lines(result_plan))
        raise typer.Exit(exit_code_for(result_plan))
    except (ConfigError, UsageError, DiscoveryError) as exc:
        raise fail(err, str(exc), ExitCode.USAGE) from None


# the main command's options a subcommand also has: given before the subcommand, they apply to it
SHARED_OPTIONS = ("root", "config_file", "preset", "as_json", "color")


def given(ctx: Any, name: str) -> bool:
    return ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)


def hand_down_options(ctx: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The shared options given before the subcommand; any other option there is refused, not ignored."""
    for param in ctx.command.params:
        if param.name not in SHARED_OPTIONS and param.name != "version" and given(ctx, param.name):
            _, err = make_consoles(values["color"])
            raise fail(err, f"{param.opts[0]} does not apply to {ctx.invoked_subcommand}", ExitCode.USAGE)
    return {name: values[name] for name in SHARED_OPTIONS if given(ctx, name)}


def keep_migrated_options(paths: Optional[list[str]], as_json: bool, output_format: Optional[OutputFormat],
                          show_suppressed: bool, *, fix: bool, apply: bool, abort: bool, diff_output: bool) -> str:
    """The output format (`--json` is `--output-format json`); options a mode does not take are refused."""
    if as_json and output_format not in (None, OutputFormat.json):
        raise UsageError(f"--json and --output-format {output_format.value}: choose one")
    fmt = "json" if as_json else (output_format.value if output_format is not None else "text")
    if abort and paths:
        raise UsageError("--abort takes no paths")
    if (apply or fix or abort) and fmt in ("github", "sarif"):
        raise UsageError(f"--output-format {fmt} only applies to --dry-run and --check")
    if (apply or fix or abort) and show_suppressed:
        raise UsageError("--show-suppressed only applies to --dry-run and --check")
    if fix and diff_output:
        raise UsageError("--diff-output only applies to --dry-run and --check")
    return fmt


@app.command("audit")
def audit_command(
    ctx: typer.Context,
    root: Annotated[Path, typer.Option("--root", "-C", help="Repository root to audit.", show_default="current directory")] = Path("."),
    config_file: Annotated[Optional[Path], typer.Option("--config", help="Read [tool.migrate-ws] from this TOML file.")] = None,
    preset: Annotated[Optional[str], typer.Option("--preset", help=PRESET_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
    color: Annotated[Optional[bool], typer.Option("--color/--no-color", help="Force colour on or off.", show_default="auto")] = None,
) -> None:
    """Report what stands between the repository and one import path: several implementations of
    the canonical names, legacy import paths, inconsistent aliases and singleton state or
    duplicate factories (when configured), import cycles. Exit 1 when there are any, 3 when
    there are none but some files could not be read or parsed (listed)."""
    import json

    from ..audit import audit, render
    from ..config import ConfigError, load_config

    handed_down = (ctx.parent.obj if ctx.parent is not None else None) or {}
    own = {"root": root, "config_file": config_file, "preset": preset, "as_json": as_json, "color": color}
    own.update({name: value for name, value in handed_down.items() if not given(ctx, name)})
    root, config_file, preset, as_json, color = (own[name] for name in SHARED_OPTIONS)
    out, err = make_consoles(color)
    try:
        repository = resolve_root(root)
        config = load_config(repository, config_file, preset)
        report = audit(repository, config)  # plans the files it lists too, which reads the configuration further
    except (ConfigError, UsageError) as exc:
        raise fail(err, str(exc), ExitCode.USAGE) from None
    if as_json:
        out.file.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        print_lines(out, render(report))
    if report.violations:
        raise typer.Exit(ExitCode.PENDING)
    raise typer.Exit(ExitCode.UNPROCESSED if report.not_processed else ExitCode.CLEAN)


def cache_directory() -> Path:
    from ..cache import default_directory

    return default_directory()


# where an --apply keeps its journal: `<git dir>/migrate-ws/apply-journal` (recovery.JOURNAL_DIR)
def main() -> None:
    import gc

    # what the imports created lives until the end; a collection need not walk it
    # again (a cached --check makes enough objects for a dozen full collections: ~30 ms)
    gc.freeze()
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("migrate-ws: interrupted\n")
        sys.exit(ExitCode.INTERRUPTED)
    except SystemExit as done:
        _exit_now(done.code)
    except Exception as exc:  # a defect in migrate-ws itself: one line, exit 123
        sys.stderr.write(f"migrate-ws: internal error: {type(exc).__name__}: {exc}\n")
        sys.exit(ExitCode.INTERNAL)


def _exit_now(code: object) -> None:
    """End the process once its output is flushed, without tearing down every object one by one
    (the plan of a large repository takes 70 ms to free; mypy's hard_exit does the same). By the
    time a command returns, it has closed every file, thread, worker pool and lock it opened."""
    if code is not None and not isinstance(code, int):
        sys.stderr.write(f"{code}\n")
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed pipe or stream: nothing more can reach it
    os._exit(code or 0)
