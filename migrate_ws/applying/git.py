"""The git operations `--apply` needs, through GitPython.

Every git process runs in its own session, so a Ctrl-C in the terminal reaches
`migrate-ws` only; when `migrate-ws` is interrupted it stops the running git process
(and any hook it started) itself, waits for it, and only then puts the repository back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


PATHS_ON_COMMAND_LINE = 64 * 1024  # bytes of paths passed as arguments; more go through stdin


class GitUnavailable(Exception):
    """The git executable cannot be found or run."""


class NotARepository(Exception):
    """The directory is not inside a git working tree."""


class BranchExists(Exception):
    """The branch (or one whose name clashes with it) exists: it was not created, nor touched."""

    def __init__(self, name: str, existing: str, tip: str | None) -> None:
        self.name = name
        self.existing = existing  # the branch that is in the way: `name`, or one that clashes with it
        self.tip = tip
        super().__init__(name)


class GitError(Exception):
    """A git command failed."""

    def __init__(self, args: list[str], status: int, stderr: str) -> None:
        self.command = args
        self.status = status
        self.stderr = stderr.strip()
        last = self.stderr.splitlines()[-1] if self.stderr else f"exit status {status}"
        super().__init__(f"git {' '.join(args)}: {last}")


@dataclass(frozen=True)
class HeadState:
    sha: str
    ref: str | None  # "refs/heads/main", or None for a detached HEAD

    @property
    def branch(self) -> str | None:
        return self.ref[len("refs/heads/"):] if self.ref and self.ref.startswith("refs/heads/") else self.ref

    def describe(self) -> str:
        return self.branch if self.ref else f"detached HEAD {self.sha[:10]}"


def stop_process(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Stop a process started in its own session, with everything it started, and reap it."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True)
class FileState:
    """A file as a commit will record it: its path from the top of the working tree, and its
    bytes and executable bit (`data` None: the commit deletes it)."""

    path: str
    data: bytes | None
    executable: bool = False

    def fast_import_command(self) -> bytes:
        from ..quoting import git_quoted

        path = git_quoted(self.path)  # ASCII: a name with a newline, a quote or bytes that are not UTF-8 too
        if self.data is None:
            return f"D {path}\n".encode("utf-8")
        mode = "100755" if self.executable else "100644"
        return f"M {mode} inline {path}\ndata {len(self.data)}\n".encode("utf-8") + self.data + b"\n"


# named in the stream only: dropped before every checkpoint, fast-import writes it only when its
# input ends inside a step (migrate-ws stopped early, or killed): then the store's stop, or
# `--abort`, deletes it
SCRATCH_REF = "refs/migrate-ws/objects"
# the split applier's fast-import writes every branch's commits to this ref, dropped at the end
# of its stream; the branches are then created together, each only if it does not exist
SPLIT_SCRATCH_REF = "refs/migrate-ws/split"


class ObjectStore:
    """`git fast-import` storing the blobs and trees of each commit-to-be while migrate-ws goes on.

    `git commit` hashes each file it commits and stores its blob, then writes a tree object
    for every directory the commit changes, each compressed into a file of its own, unless the
    object database has them already. Here each step's files go into a throwaway commit on top
    of the previous one (the branch is dropped before fast-import would write it), which
    stores exactly the blobs and trees the real commit will have (one pack per step,
    compressed as git compresses loose objects, on the core that writing the files leaves
    idle): each real commit then only hashes its files. Nothing refers to these objects until
    a real commit does; should the run stop, `git gc` removes them.
    """

    def __init__(self, repository: "Repository", command: list[str], base: str, steps: list[list[FileState]]) -> None:
        self._repository = repository  # to remove what fast-import leaves when it stops early
        # fast-import's progress lines go to a file, not a pipe: should migrate-ws be killed, a
        # pipe with no reader would kill fast-import too (SIGPIPE), in the middle of a pack; with
        # a file it sees its input end, finishes its pack and exits. The file has no name.
        folder = tempfile.mkdtemp(prefix="migrate-ws-objects-")
        try:
            name = os.path.join(folder, "progress")
            progress = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._progress = os.open(name, os.O_RDONLY)
            os.unlink(name)
        finally:
            os.rmdir(folder)
        try:
            self.process = subprocess.Popen(command, cwd=repository.top, stdin=subprocess.PIPE, stdout=progress,
                                            stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError:
            os.close(self._progress)
            raise
        finally:
            os.close(progress)
        self._stored = [threading.Event() for _ in steps]
        self._stopping = threading.Event()
        self.complete = False  # every step went through (no scratch ref can have been written)
        self._feeder = threading.Thread(target=self._feed, args=(base, steps), daemon=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._feeder.start()
        self._reader.start()

    def _feed(self, base: str, steps: list[list[FileState]]) -> None:
        from . import test_pause

        pipe = self.process.stdin
        assert pipe is not None
        parent = base
        pauses = test_pause.wanted("fast-import:")
        sent = 0
        try:
            for number, files in enumerate(steps):
                pipe.write(f"commit {SCRATCH_REF}\nmark :{number + 1}\n"
                           f"committer migrate-ws <migrate-ws@localhost> 0 +0000\ndata 0\nfrom {parent}\n".encode())
                for state in files:
                    if self._stopping.is_set():
                        return
                    command = state.fast_import_command()
                    sent += 1
                    if pauses and f"fast-import:{sent}" in pauses:
                        pipe.write(command[:len(command) // 2])
                        pipe.flush()
                        test_pause.reached(f"fast-import:{sent}")
                        command = command[len(command) // 2:]
                    pipe.write(command)
                # the branch is dropped (never written); the pack so far is finished, its objects
                # visible to git; then the step's number is echoed
                pipe.write(f"\nreset {SCRATCH_REF}\nfrom {'0' * 40}\n\ncheckpoint\nprogress {number}\n".encode())
                parent = f":{number + 1}"
            self.complete = True
        except (OSError, ValueError):
            pass  # fast-import is gone: the commits store their objects themselves
        finally:
            # the end of the stream, between two commands: fast-import finishes its pack and exits,
            # leaving no temporary pack behind (a kill of migrate-ws can end the stream inside a
            # file instead: then fast-import leaves a crash report, which --abort removes)
            try:
                pipe.close()
            except OSError:
                pass

    def _read(self) -> None:
        received, position = b"", 0
        try:
            while True:
                ended = self.process.poll() is not None
                chunk = os.pread(self._progress, 4096, position)
                if chunk:
                    position += len(chunk)
                    received += chunk
                    *lines, received = received.split(b"\n")
                    for line in lines:
                        number = line.removeprefix(b"progress ").strip()
                        if number.isdigit() and int(number) < len(self._stored):
                            self._stored[int(number)].set()
                elif ended:
                    break
                else:
                    time.sleep(0.002)
        except OSError:
            pass
        finally:
            for event in self._stored:  # ended (or failed): nobody waits any longer
                event.set()
            os.close(self._progress)

    def wait(self, step: int) -> None:
        """Until the objects of step number `step` are stored (or fast-import stopped: a commit
        stores what it needs)."""
        self._stored[step].wait()

    def stop(self) -> None:
        """End the stream after the file being written; fast-import finishes its pack and exits.
        What it leaves when it stopped early (the scratch ref, a crash report) is removed."""
        self._stopping.set()
        self._feeder.join()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stop_process(self.process)
        self._reader.join()
        try:
            if self.process.returncode not in (0, None):
                # it failed (the commits stored their objects themselves): its crash report is ours
                self._repository.git_path(f"fast_import_crash_{self.process.pid}").unlink(missing_ok=True)
            if not self.complete:  # its input ended inside a step: it wrote the scratch ref
                self._repository.run_status("update-ref", "-d", SCRATCH_REF)
        except (OSError, GitError, GitUnavailable):
            pass


def _import_gitpython():
    try:
        import git  # GitPython checks for a working git executable when it is imported
    except ImportError:
        raise GitUnavailable("git is not available (no working git executable on PATH)") from None
    return git


class Repository:
    """One git working tree."""

    def __init__(self, path: Path) -> None:
        gitpython = _import_gitpython()
        self._gitpython = gitpython
        try:
            repo = gitpython.Repo(path, search_parent_directories=True)
        except (gitpython.InvalidGitRepositoryError, gitpython.NoSuchPathError):
            raise NotARepository(str(path)) from None
        except gitpython.GitCommandNotFound:
            raise GitUnavailable("git is not available (no working git executable on PATH)") from None
        if repo.bare or repo.working_tree_dir is None:
            repo.close()
            raise NotARepository(str(path))
        self._repo = repo
        self.top = Path(repo.working_tree_dir).resolve()
        self._executable = getattr(type(repo.git), "GIT_PYTHON_GIT_EXECUTABLE", None) or "git"
        self.stopped_process = False  # a git process was stopped before it finished
        self.on_start: Callable[[int, tuple[str, ...]], None] | None = None  # told each git process's pid and args

    def close(self) -> None:
        self._repo.close()

    # ----- running git -------------------------------------------------------------------

    def run(self, *args: str, check: bool = True, stdin: bytes | None = None, errors: str = "replace") -> str:
        """Run `git ARGS` in the working tree; return stdout (raise `GitError` on failure). `errors`:
        how stdout is decoded ("surrogateescape" for paths, which keeps every byte as os.fsdecode does)."""
        status, out, err = self.run_status(*args, stdin=stdin, errors=errors)
        if check and status != 0:
            raise GitError(list(args), status, err)
        return out

    def run_status(self, *args: str, stdin: bytes | None = None, errors: str = "replace") -> tuple[int, str, str]:
        command = [self._executable, *args]
        extra = {"istream": subprocess.PIPE} if stdin is not None else {}
        try:
            handle = self._repo.git.execute(command, as_process=True, start_new_session=True, **extra)
        except self._gitpython.GitCommandNotFound:
            raise GitUnavailable("git is not available (no working git executable on PATH)") from None
        proc = handle.proc
        try:
            if self.on_start is not None:
                self.on_start(proc.pid, tuple(args))
            out, err = proc.communicate(stdin)
        except BaseException:
            stop_process(proc)
            self.stopped_process = True
            raise
        return proc.returncode, out.decode("utf-8", errors), err.decode("utf-8", "replace")

    def store_objects(self, base: str, steps: list[list[FileState]]) -> "ObjectStore | None":
        """Start storing the blobs and trees of each step's commit on `base`, in the background
        (None: git cannot be started)."""
        # level 1 and no deltas, as git stores the loose objects of a commit: 6x faster than the pack defaults
        command = [self._executable, "-c", "pack.compression=1", "fast-import", "--quiet", "--depth=0"]
        try:
            return ObjectStore(self, command, base, steps)
        except OSError:
            return None

    # ----- facts -------------------------------------------------------------------------

    def git_path(self, name: str) -> Path:
        """A path inside the git directory (`git rev-parse --git-path NAME`)."""
        value = self.run("rev-parse", "--git-path", name).strip()
        path = Path(value)
        return (path if path.is_absolute() else self.top / path).resolve()

    def head(self) -> HeadState:
        status, out, _ = self.run_status("rev-parse", "--verify", "-q", "HEAD^{commit}")
        if status != 0:
            raise GitError(["rev-parse", "HEAD"], status, "the current branch has no commits yet")
        sha = out.strip()
        status, ref, _ = self.run_status("symbolic-ref", "-q", "HEAD")
        return HeadState(sha, ref.strip() if status == 0 and ref.strip() else None)

    def status_entries(self) -> list[tuple[str, str]]:
        """(two-letter code, path) for every change, staged or not, and every untracked file."""
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignore-submodules=none",
                       errors="surrogateescape")
        entries: list[tuple[str, str]] = []
        fields = out.split("\0")
        index = 0
        while index < len(fields):
            field = fields[index]
            index += 1
            if len(field) < 4:
                continue
            code, path = field[:2], field[3:]
            entries.append((code, path))
            if code[0] in "RC":
                index += 1  # the rename's source path follows
        return entries

    def tracked(self, paths: list[str]) -> set[str]:
        """The subset of `paths` (relative to the top of the working tree) that git tracks."""
        if not paths:
            return set()
        out = self.run("ls-files", "-z", "--full-name", errors="surrogateescape")
        return set(paths) & {p for p in out.split("\0") if p}

    def operation_in_progress(self) -> str | None:
        for marker, name in (("MERGE_HEAD", "a merge"), ("CHERRY_PICK_HEAD", "a cherry-pick"),
                             ("REVERT_HEAD", "a revert"), ("rebase-merge", "a rebase"),
                             ("rebase-apply", "a rebase or `git am`"), ("BISECT_LOG", "a bisect")):
            if self.git_path(marker).exists():
                return name
        return None

    def valid_branch_name(self, name: str) -> bool:
        """Whether `name` makes a new branch of exactly that name: `check-ref-format --branch` takes
        it and does not read it as another branch (`@{-1}` is the branch checked out before, and
        `@{-1}x` that name with an x; `@` alone means HEAD)."""
        status, out, _ = self.run_status("check-ref-format", "--branch", name)
        return status == 0 and out.rstrip("\n") == name and name != "@" and not name.startswith("-")

    def ref_conflict(self, name: str) -> str | None:
        """An existing branch that `name` would clash with (the same name, or a path prefix of it)."""
        out = self.run("for-each-ref", "--format=%(refname)", "refs/heads/")
        wanted = f"refs/heads/{name}"
        for ref in out.splitlines():
            ref = ref.strip()
            if ref == wanted or wanted.startswith(ref + "/") or ref.startswith(wanted + "/"):
                return ref[len("refs/heads/"):]
        return None

    def identity_problem(self) -> str | None:
        for variable in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
            status, _, err = self.run_status("var", variable)
            if status != 0:
                detail = err.strip().splitlines()[0] if err.strip() else "unknown identity"
                return f"git cannot make commits here ({detail}); set user.name and user.email"
        return None

    # ----- changes -----------------------------------------------------------------------

    def common_dir(self) -> Path:
        """The git directory the repository's working trees share (`git rev-parse --git-common-dir`)."""
        value = self.run("rev-parse", "--git-common-dir").strip()
        path = Path(value)
        return (path if path.is_absolute() else self.top / path).resolve()

    def branch_tip(self, name: str) -> str | None:
        status, out, _ = self.run_status("rev-parse", "-q", "--verify", f"refs/heads/{name}")
        return out.strip() if status == 0 and out.strip() else None

    def creation_message(self, name: str) -> str | None:
        """The reflog message of the update that created the branch (None without a reflog)."""
        status, out, _ = self.run_status("reflog", "show", "--format=%gs", f"refs/heads/{name}", "--")
        lines = [line for line in out.splitlines() if line.strip()] if status == 0 else []
        return lines[-1] if lines else None

    def create_branch(self, name: str, sha: str, message: str) -> None:
        """Create the branch at `sha` in one atomic step; `BranchExists` when it (or a branch whose name
        clashes with it) exists: then nothing was changed."""
        self.create_branches({name: sha}, message)

    def create_branches(self, tips: dict[str, str], message: str) -> None:
        """Create every branch, all or none, each only if it does not exist (the all-zero old value)."""
        lines = "".join(f"create refs/heads/{name} {sha}\n" for name, sha in tips.items())
        status, _, err = self.run_status("update-ref", "-m", message, "--stdin", stdin=lines.encode("utf-8"))
        if status == 0:
            return
        for name in tips:
            existing = self.ref_conflict(name)
            if existing is not None:
                raise BranchExists(name, existing, self.branch_tip(existing))
        raise GitError(["update-ref", "--stdin"], status, err)

    def switch_head(self, name: str) -> None:
        """Point HEAD at `name`, which is at the current commit: index and files stay as they are."""
        self.run("symbolic-ref", "-m", f"migrate-ws: switch to {name}", "HEAD", f"refs/heads/{name}")

    def restore_head(self, state: HeadState) -> None:
        if state.ref is not None:
            self.run("symbolic-ref", "-m", "migrate-ws: restore", "HEAD", state.ref)
        else:
            self.run("update-ref", "--no-deref", "-m", "migrate-ws: restore", "HEAD", state.sha)

    def delete_branch(self, name: str, expected: str, message: str = "migrate-ws: delete branch") -> bool:
        """Delete the branch only while it points at `expected` (one atomic compare and delete).
        True when it is gone, False when it points at another commit (then it was left as it is)."""
        status, _, err = self.run_status("update-ref", "-m", message, "-d", f"refs/heads/{name}", expected)
        if status == 0:
            return True
        tip = self.branch_tip(name)
        if tip is None:
            return True
        if tip != expected:
            return False
        raise GitError(["update-ref", "-d", f"refs/heads/{name}", expected], status, err)

    def commit(self, paths: list[str], title: str, body: str) -> str:
        """Commit exactly `paths` as they are in the working tree (other staged changes stay staged)."""
        specs = [f":(literal){p}" for p in paths]
        # without the preload threads, which only compete with the background blob store for the
        # cores: the commit of hundreds of files is 10-15% faster
        command = ["-c", "core.preloadIndex=false", "commit", "-q", "--only", "--no-edit", "-m", title, "-m", body]
        if sum(len(spec) + 1 for spec in specs) < PATHS_ON_COMMAND_LINE:
            self.run(*command, "--", *specs)
        else:  # very many files: pass them on stdin rather than risk the argument-length limit
            self.run(*command, "--pathspec-from-file=-", "--pathspec-file-nul",
                     stdin="\0".join(specs).encode("utf-8", "surrogateescape"))
        return self.run("rev-parse", "HEAD").strip()


def is_step_commit(repo: "Repository", sha: str, parent: str, step: str | None) -> bool:
    """Whether `sha` is the commit of the step `step` made on `parent` by migrate-ws (one whose
    `git commit` ended after the run that started it lost track: killed or interrupted)."""
    status, out, _ = repo.run_status("log", "-1", "--format=%P%x00%s%x00%b", sha)
    if status != 0:
        return False
    parents, subject, body = (out.split("\x00") + ["", ""])[:3]
    return (parents.strip() == parent and subject.startswith("migrate-ws: ")
            and f"Step: {step}" in body.splitlines())
