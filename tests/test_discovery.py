"""File selection (migrate_ws/discovery.py): gitignore-style include/exclude, .gitignore files,
explicit paths, symlinks and stats, on real files (and real git repositories where git's
own answer is the reference)."""

from __future__ import annotations

import os
import random
from dataclasses import replace
from pathlib import Path

import pytest

from helpers import git
from migrate_ws.config import ConfigError, load_preset, parse_config
from migrate_ws.discovery import Discovery, DiscoveryError, discover, discover_with_stats

NETRA = load_preset("netra")


pytestmark = pytest.mark.usefixtures("hermetic_git")


def touch(root: Path, *paths: str) -> None:
    for relative in paths:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def git_init(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")


def git_untracked(root: Path) -> list[str]:
    """git's own answer: the untracked .py files that no ignore file excludes."""
    out = git(root, "ls-files", "--others", "--exclude-standard", "-z")
    return sorted(p for p in out.split("\0") if p.endswith(".py"))


def config(include=("**/*.py",), exclude=(), respect_gitignore=True):
    return replace(NETRA, include=tuple(include), exclude=tuple(exclude), respect_gitignore=respect_gitignore)


def selected(root: Path, **options) -> list[str]:
    return discover(root, config(**options)).files


# ----- include / exclude: gitignore-style patterns ----------------------------------------------

TREE = [
    "a.py", "b.py", "build.py", "pkg/a.py", "pkg/sub/a.py", "pkg/tests/test_y.py", "build/x.py",
    "src/build/x.py", "src/build.py", "tests/test_x.py", "tests/conftest.py", "docs/conf.py",
    "src/pkg/mod.py", "x.py/inner.py",
]

# (include, exclude, selected): every other file of TREE is not selected
SEMANTICS = [
    pytest.param(["**/*.py"], [], TREE, id="default include: every .py at any depth"),
    pytest.param(["*.py"], [], TREE, id="no slash: any depth"),
    pytest.param(["/*.py"], [], ["a.py", "b.py", "build.py", "x.py/inner.py"],
                 id="leading slash: the root only (x.py/ is a directory there: all of it)"),
    pytest.param(["src/"], [], ["src/build/x.py", "src/build.py", "src/pkg/mod.py"],
                 id="trailing slash: a directory and everything in it"),
    pytest.param(["pkg/*.py"], [], ["pkg/a.py"], id="* does not cross a slash"),
    pytest.param(["pkg/**/a.py"], [], ["pkg/a.py", "pkg/sub/a.py"], id="/**/ is zero or more directories"),
    pytest.param(["**/*.py", "!docs/**"], [], [p for p in TREE if not p.startswith("docs/")],
                 id="include negation"),
    pytest.param(["**/*.py"], ["build"], [p for p in TREE if p not in ("build/x.py", "src/build/x.py")],
                 id="exclude without slash: a directory at any depth"),
    pytest.param(["**/*.py"], ["/build"], [p for p in TREE if p != "build/x.py"], id="exclude anchored"),
    pytest.param(["**/*.py"], ["build/"], [p for p in TREE if p not in ("build/x.py", "src/build/x.py")],
                 id="exclude directories only"),
    pytest.param(["**/*.py"], ["build/**"], [p for p in TREE if p != "build/x.py"],
                 id="exclude a slash in the middle: anchored"),
    pytest.param(["**/*.py"], ["test_*.py"], [p for p in TREE if "test_" not in p], id="exclude by name"),
    pytest.param(["**/*.py"], ["?.py"], ["build.py", "docs/conf.py", "pkg/tests/test_y.py", "src/build.py",
                                         "src/pkg/mod.py", "tests/conftest.py", "tests/test_x.py"],
                 id="? is one character"),
    pytest.param(["**/*.py"], ["[a].py"], [p for p in TREE if p not in ("a.py", "pkg/a.py", "pkg/sub/a.py")],
                 id="character class"),
    pytest.param(["**/*.py"], ["tests/**", "!tests/conftest.py"], [p for p in TREE if p != "tests/test_x.py"],
                 id="negation re-includes a file inside tests/**"),
    pytest.param(["**/*.py"], ["tests/", "!tests/conftest.py"], [p for p in TREE if "tests/" not in p],
                 id="negation cannot re-include a file whose directory is excluded"),
    pytest.param(["**/*.py"], ["**/tests/*.py"], [p for p in TREE if "tests/" not in p], id="**/ at the start"),
]


@pytest.mark.parametrize("include, exclude, expected", SEMANTICS)
def test_include_exclude_semantics(tmp_path: Path, include, exclude, expected) -> None:
    touch(tmp_path, *TREE, "notes.txt", "pkg/data.json")
    assert selected(tmp_path, include=include, exclude=exclude) == sorted(expected)


def test_netra_preset_selects_what_the_glob_patterns_did(tmp_path: Path) -> None:
    # the preset's excludes all contain a slash before the end, so they were anchored (or
    # started with **/) before and mean the same under gitignore rules
    kept = ["app/main.py", "app/build/helpers.py", "app/venv/x.py", "lib/dist/x.py", "app/node_modules/x.py",
            "site-packages.py", "x.py/y.py"]
    dropped = ["build/x.py", "dist/x.py", "venv/x.py", ".venv/lib/x.py", "node_modules/x.py",
               "lib/python3/site-packages/pkg/x.py", "site-packages/x.py", "app/__pycache__/x.py", "__pycache__/x.py",
               ".hg/x.py", ".git/x.py"]
    touch(tmp_path, *kept, *dropped)
    assert discover(tmp_path, NETRA).files == sorted(kept)


# ----- .gitignore files ---------------------------------------------------------------------------

def test_nested_gitignore_files_with_negations_and_directory_patterns(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    git_init(root)
    write(root, ".gitignore", "generated/\n*_pb2.py\n!keep_pb2.py\nbuild/**\n!build/keep.py\nlogs/\n!logs/keep.py\n")
    write(root, "pkg/.gitignore", "!local_pb2.py\nscratch.py\n/only_here.py\n")
    write(root, "pkg/sub/.gitignore", "!scratch.py\n")
    touch(root, "main.py", "generated/a.py", "x_pb2.py", "keep_pb2.py", "build/keep.py", "build/other.py",
          "build/sub/x.py", "logs/keep.py", "pkg/local_pb2.py", "pkg/other_pb2.py", "pkg/scratch.py",
          "pkg/sub/scratch.py", "pkg/only_here.py", "pkg/sub/only_here.py")
    expected = ["build/keep.py", "keep_pb2.py", "main.py", "pkg/local_pb2.py", "pkg/sub/only_here.py",
                "pkg/sub/scratch.py"]
    assert selected(root) == expected
    assert git_untracked(root) == expected  # git agrees


def test_git_info_exclude_applies_below_the_gitignore_files(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    git_init(root)
    write(root, ".git/info/exclude", "local/\n*_draft.py\n")
    write(root, ".gitignore", "!keep_draft.py\n")
    touch(root, "app.py", "local/a.py", "x_draft.py", "keep_draft.py")
    assert selected(root) == ["app.py", "keep_draft.py"]
    assert git_untracked(root) == ["app.py", "keep_draft.py"]


def test_git_info_exclude_of_a_worktree_is_the_common_one(tmp_path: Path) -> None:
    main = tmp_path / "main"
    git_init(main)
    touch(main, "app.py")
    git(main, "add", "app.py")
    git(main, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "one")
    write(main, ".git/info/exclude", "*_local.py\n")
    tree = tmp_path / "tree"
    git(main, "worktree", "add", "-q", str(tree))
    assert (tree / ".git").is_file()
    touch(tree, "x_local.py", "new.py")
    assert selected(tree) == ["app.py", "new.py"]


def test_gitignore_files_above_the_root_apply_relative_to_their_directory(tmp_path: Path) -> None:
    top = tmp_path / "repo"
    git_init(top)
    write(top, ".gitignore", "/services/api/generated/\n*_tmp.py\n")
    write(top, "services/.gitignore", "api/old.py\n")
    touch(top, "services/api/app.py", "services/api/generated/x.py", "services/api/a_tmp.py", "services/api/old.py")
    assert selected(top / "services" / "api") == ["app.py"]


def test_a_nested_repository_follows_its_own_ignore_files(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    git_init(root)
    write(root, ".gitignore", "*_gen.py\n")
    git_init(root / "vendor" / "lib")
    write(root, "vendor/lib/.gitignore", "b.py\n")
    touch(root, "a_gen.py", "app.py", "vendor/lib/a_gen.py", "vendor/lib/b.py", "vendor/lib/c.py")
    assert selected(root) == ["app.py", "vendor/lib/a_gen.py", "vendor/lib/c.py"]


def test_gitignore_is_respected_outside_a_git_repository_too(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "out/\n")
    touch(tmp_path, "app.py", "out/x.py")
    assert selected(tmp_path) == ["app.py"]


def test_tracked_files_that_a_gitignore_matches_are_skipped(tmp_path: Path) -> None:
    # as black and ruff: they read the ignore files, not git's index
    root = tmp_path / "repo"
    git_init(root)
    touch(root, "app.py", "vendored/tracked.py")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "one")
    write(root, ".gitignore", "vendored/\n")
    assert "vendored/tracked.py" in git(root, "ls-files")
    assert selected(root) == ["app.py"]


def test_respect_gitignore_false_reads_ignored_files_but_never_dot_git(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    git_init(root)
    write(root, ".gitignore", "generated/\n")
    write(root, ".git/info/exclude", "local.py\n")
    touch(root, "app.py", "generated/x.py", "local.py", ".git/hooks/x.py")
    assert selected(root, respect_gitignore=False) == ["app.py", "generated/x.py", "local.py"]
    assert selected(root) == ["app.py"]


def test_respect_gitignore_is_validated_like_the_other_keys() -> None:
    base = {"canonical-module": "a.b", "legacy-modules": {"a.old": ["X"]}}
    assert parse_config(base, "t").respect_gitignore is True
    assert parse_config({**base, "respect-gitignore": False}, "t").respect_gitignore is False
    with pytest.raises(ConfigError) as error:
        parse_config({**base, "respect-gitignore": "no"}, "t")
    assert str(error.value) == "tool.migrate-ws.respect-gitignore: expected bool, got 'no'"
    with pytest.raises(ConfigError, match=r"^tool\.migrate-ws\.respect_gitignore: unknown key$"):
        parse_config({**base, "respect_gitignore": False}, "t")


@pytest.mark.parametrize("pattern, message", [
    ("#generated", "matches nothing as a gitignore-style pattern"),
    ("!", "not a valid gitignore-style pattern"),
])
def test_an_unusable_pattern_is_a_one_line_config_error(pattern: str, message: str) -> None:
    base = {"canonical-module": "a.b", "legacy-modules": {"a.old": ["X"]}}
    with pytest.raises(ConfigError) as error:
        parse_config({**base, "exclude": ["build/", pattern]}, "t")
    text = str(error.value)
    assert text.startswith(f"tool.migrate-ws.exclude: {pattern!r} ") and message in text and "\n" not in text


def test_a_character_class_never_matches_a_slash(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    git_init(root)
    write(root, ".gitignore", "a[!x]b/c.py\n")
    touch(root, "a/b/c.py", "ayb/c.py")
    assert selected(root) == git_untracked(root) == ["a/b/c.py"]


def test_random_gitignore_files_agree_with_git(tmp_path: Path) -> None:
    """A bounded differential run: random trees and ignore files, git's answer is the reference."""
    names = ["a", "b", "sub", "x.py", "keep.py"]

    def pattern(rng: random.Random) -> str:
        part = lambda: rng.choice(names + ["*", "*.py", "k*", "?.py", "[ab]"])  # noqa: E731
        text = rng.choice([
            part(), part() + "/", "/" + part(), part() + "/" + part(), part() + "/**", "**/" + part(),
            part() + "/**/" + part(), "*/", part() + "/*", part() + "/**/", "/" + part() + "/" + part() + "/",
            "s[!x]b/" + part(), "[!z]/" + part(), part() + "/[a-c]*", "**/[!k]*.py",
        ])
        return ("!" + text) if rng.random() < 0.35 else text

    def fill(rng: random.Random, directory: Path, depth: int) -> None:
        for name in rng.sample(names, rng.randint(1, 4)):
            if name.endswith(".py") or depth >= 3 or rng.random() < 0.3:
                (directory / (name if name.endswith(".py") else name + ".py")).write_text("x = 1\n")
            else:
                (directory / name).mkdir(exist_ok=True)
                fill(rng, directory / name, depth + 1)

    for seed in range(40):
        rng = random.Random(seed)
        root = tmp_path / f"r{seed}"
        git_init(root)
        fill(rng, root, 0)
        directories = [root] + sorted(p for p in root.rglob("*") if p.is_dir() and ".git" not in p.parts)
        for directory in rng.sample(directories, min(len(directories), rng.randint(1, 3))):
            (directory / ".gitignore").write_text("\n".join(pattern(rng) for _ in range(rng.randint(1, 5))) + "\n")
        if rng.random() < 0.3:
            (root / ".git" / "info").mkdir(exist_ok=True)
            (root / ".git" / "info" / "exclude").write_text(pattern(rng) + "\n")
        assert selected(root) == git_untracked(root), f"seed {seed}"


# ----- explicit paths -----------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    git_init(root)
    write(root, ".gitignore", "generated/\n")
    touch(root, "app/a.py", "app/b.py", "app/sub/c.py", "app/build/d.py", "tools/t.py", "generated/g.py",
          "app/data.txt")
    return root


def test_explicit_file_and_directory(project: Path) -> None:
    cfg = config(exclude=["build/"])
    assert discover(project, cfg, paths=["app/a.py"]).files == ["app/a.py"]
    assert discover(project, cfg, paths=[project / "app" / "b.py"]).files == ["app/b.py"]  # absolute, inside
    assert discover(project, cfg, paths=["app"]).files == ["app/a.py", "app/b.py", "app/sub/c.py"]
    assert discover(project, cfg, paths=["app/sub", "tools/t.py", "app/sub/c.py"]).files == ["app/sub/c.py", "tools/t.py"]
    assert discover(project, cfg, paths=["."]).files == discover(project, cfg).files


def test_an_excluded_file_named_explicitly_stays_excluded(project: Path) -> None:
    # ruff's --force-exclude: pre-commit names files one by one and must not sneak excluded ones in
    assert discover(project, config(exclude=["build/"]), paths=["app/build/d.py"]).files == []
    assert discover(project, config(exclude=["b.py"]), paths=["app/b.py", "app/a.py"]).files == ["app/a.py"]
    assert discover(project, config(exclude=["build/"]), paths=["app/build"]).files == []


def test_a_gitignored_file_named_explicitly_is_read_as_ruff_does(project: Path) -> None:
    assert discover(project, NETRA, paths=["generated/g.py"]).files == ["generated/g.py"]
    assert discover(project, NETRA, paths=["generated"]).files == []  # a directory walk follows .gitignore


def test_include_does_not_apply_to_a_file_named_explicitly(project: Path) -> None:
    cfg = config(include=["app/**/*.py"])
    assert discover(project, cfg).files == ["app/a.py", "app/b.py", "app/build/d.py", "app/sub/c.py"]
    assert discover(project, cfg, paths=["tools/t.py"]).files == ["tools/t.py"]
    assert discover(project, cfg, paths=["tools"]).files == []
    assert discover(project, cfg, paths=["app/data.txt"]).files == []  # only .py files are read


@pytest.mark.parametrize("given, message", [
    ("../elsewhere.py", "../elsewhere.py: outside the repository root "),
    ("/", "/: outside the repository root "),
    ("app/missing.py", "app/missing.py: no such file or directory"),
])
def test_a_path_outside_the_root_or_missing_is_an_error(project: Path, given: str, message: str) -> None:
    (project.parent / "elsewhere.py").write_text("x = 1\n")
    with pytest.raises(DiscoveryError) as error:
        discover(project, NETRA, paths=["app/a.py", given])
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


# ----- symlinks, stats, the result ------------------------------------------------------------------

def test_symlinks_are_reported_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    touch(root, "app/good.py", "lib/inner.py", "build/out.py")
    (tmp_path / "outside.py").write_text("x = 1\n")
    (tmp_path / "outside_dir").mkdir()
    touch(tmp_path, "outside_dir/z.py")
    os.symlink(tmp_path / "outside.py", root / "app" / "to_outside.py")
    os.symlink(root / "app" / "good.py", root / "app" / "to_inside.py")
    os.symlink(root / "lib", root / "app" / "linked_lib")
    os.symlink(tmp_path / "outside_dir", root / "linked_outside")
    os.symlink(root / "lib", root / "build" / "linked")  # inside an excluded directory: not even a note
    found = discover(root, config(exclude=["/build/"]))
    assert found.files == ["app/good.py", "lib/inner.py"]
    assert [note.render() for note in found.notes] == [
        "app/linked_lib:0: MW905 symlinked directory: not followed",
        "app/to_inside.py:0: MW905 symlink to a file inside the repository: not followed",
        "app/to_outside.py:0: MW905 symlink to a file outside the repository: not followed",
        "linked_outside:0: MW905 symlinked directory: not followed",
    ]
    assert {note.code for note in found.notes} == {"MW905"}
    named = discover(root, NETRA, paths=["app/to_outside.py", "app/linked_lib", "app/linked_lib/inner.py"])
    assert named.files == []
    assert [note.render() for note in named.notes] == [
        "app/linked_lib:0: MW905 symlinked directory: not followed",
        "app/to_outside.py:0: MW905 symlink to a file outside the repository: not followed",
    ]


def test_stats_and_the_result(tmp_path: Path) -> None:
    touch(tmp_path, "b/z.py", "a.py", "b/a.py")
    plain = discover(tmp_path, NETRA)
    assert isinstance(plain, Discovery)
    assert plain.files == ["a.py", "b/a.py", "b/z.py"] and plain.stats == {} and plain.notes == []
    with_stats = discover(tmp_path, NETRA, stats=True)
    for relative in with_stats.files:
        info = os.stat(tmp_path / relative)
        assert with_stats.stats[relative] == (info.st_mtime_ns, info.st_size)
    assert discover(tmp_path, NETRA, paths=["b/a.py"], stats=True).stats == {"b/a.py": with_stats.stats["b/a.py"]}
    files, notes, stats = discover_with_stats(tmp_path, NETRA)
    assert (files, notes, stats) == (with_stats.files, with_stats.notes, with_stats.stats)
