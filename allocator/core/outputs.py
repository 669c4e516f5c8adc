"""Outputs that never destroy what is not ours.

Every folder this package writes carries a marker file (MARKER, naming its kind), and a folder
may only be replaced by a folder of the same kind that this package wrote (solution folders of
earlier versions are recognised by their summary.json). A folder is written whole: everything
goes to a staging folder beside the target, which is then exchanged with the target in one
atomic step (Linux renameat2 RENAME_EXCHANGE), so that an interruption at any moment leaves
either the old folder or the new one. Staging folders name the process that made them; one whose
process is gone (killed with SIGKILL) is removed by the next write into the same place.

A target is claimed for the whole run (an exclusive lock beside it), so that a second run
writing the same place is refused at once rather than overwriting the first one's results.
Files are replaced only when they are not an input of the run and, when they exist, were
written by this package (a signature in their first bytes).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError, Problem

MARKER = ".allocator.json"
SIGNATURE = "reception-allocator"
NAME_MAX = 255  # bytes in one file name (Linux)
PATH_MAX = 4096
_STAGING = re.compile(r"^\.(?P<name>.+)\.allocator-(?P<pid>\d+)-[a-z0-9_]+$")


def safe_name(text: str, fallback: str = "output") -> str:
    """A file name made from free text (an instance or policy name): letters, digits, '.', '_', '-' only, no leading dot."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip(".-")
    return name[:100] or fallback


def is_ours(folder: Path, kind: str) -> bool:
    """The folder was written by this package as a folder of ``kind``."""
    marker = folder / MARKER
    if marker.is_file():
        try:
            return json.loads(marker.read_text(encoding="utf-8")).get("kind") == kind
        except (OSError, ValueError, AttributeError):
            return False
    # Solution folders written before the marker existed: their summary.json says what they are.
    if kind == "solution" and (folder / "summary.json").is_file():
        try:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(summary, dict) and {"status", "instance", "policy"} <= set(summary)
    return False


def check_folder_target(target: str | Path, kind: str, inputs: Iterable[str | Path] = ()) -> Path:
    """``target`` as a folder this run may write; OutputError with every reason it may not."""
    path = Path(target)
    problems = _path_problems(path, "folder")
    if not problems and path.exists():
        if not path.is_dir():
            problems.append(Problem(str(path), "exists and is a file, not a folder"))
        elif not is_ours(path, kind):
            problems.append(
                Problem(
                    str(path),
                    f"exists and is not a {kind} folder written by allocator; it is left alone: choose another folder, or remove it yourself",
                )
            )
    problems += _input_problems(path, inputs, folder=True)
    if problems:
        raise OutputError(problems)
    return path


def check_file_target(target: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """``target`` as a file this run may write: not an input, and if it exists, written by this package."""
    path = Path(target)
    problems = _path_problems(path, "file")
    if not problems and path.exists():
        if path.is_dir():
            problems.append(Problem(str(path), "is a folder, not a file"))
        elif not _signed(path):
            problems.append(
                Problem(
                    str(path),
                    "exists and was not written by allocator; it is left alone: choose another name, or remove it yourself",
                )
            )
    problems += _input_problems(path, inputs, folder=False)
    if problems:
        raise OutputError(problems)
    return path


def _path_problems(path: Path, what: str) -> list[Problem]:
    name = path.name
    if str(path) in ("", ".") or name in ("", ".", ".."):
        return [Problem(str(path), f"names the current or a parent folder; give the {what} a name of its own")]
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:
        return [Problem(str(path), f"cannot be resolved: {exc}")]
    if resolved == Path.cwd().resolve() or resolved in Path.cwd().resolve().parents:
        return [Problem(str(path), f"is the current folder or one of its parents; give the {what} a name of its own")]
    if len(os.fsencode(name)) > NAME_MAX:
        return [Problem(str(path), f"the name is too long ({len(os.fsencode(name))} bytes; at most {NAME_MAX})")]
    if len(os.fsencode(str(resolved))) > PATH_MAX - NAME_MAX:
        return [Problem(str(path), f"the path is too long ({len(os.fsencode(str(resolved)))} bytes)")]
    if path.is_symlink():
        return [
            Problem(str(path), f"is a symbolic link; give the {what} itself (allocator does not write through links)")
        ]
    return []


def _input_problems(path: Path, inputs: Iterable[str | Path], folder: bool) -> list[Problem]:
    """An output may not be an input, hold one (a folder around it), or be a file inside an input folder."""
    out = []
    resolved = path.resolve()
    for item in inputs:
        source = Path(item).resolve()
        holds_input = folder and resolved in source.parents
        inside_input_folder = not folder and source.is_dir() and source in resolved.parents
        if resolved == source or holds_input or inside_input_folder:
            out.append(
                Problem(str(path), f"would overwrite an input of this run ({item}); outputs never replace inputs")
            )
    return out


def _signed(path: Path) -> bool:
    """A file of ours: the signature in its first 4 KB (HTML meta, PNG text chunk, JSON key, CSV header) or an xlsx whose creator we are."""
    try:
        if path.suffix.lower() == ".xlsx":
            import zipfile

            with zipfile.ZipFile(path) as book:
                return SIGNATURE.encode() in book.read("docProps/core.xml")
        with open(path, "rb") as f:
            head = f.read(4096)
    except (OSError, KeyError, ValueError):
        return False
    return SIGNATURE.encode() in head or head.startswith(b"section,id,name")


def write_marker(folder: Path, kind: str, extra: dict | None = None) -> None:
    """Mark ``folder`` as written by this package as a folder of ``kind``."""
    body = {"written_by": SIGNATURE, "kind": kind, **(extra or {})}
    (folder / MARKER).write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


class Claim:
    """A target folder held by this run: checked, locked against other runs, written whole by :meth:`write`."""

    def __init__(self, target: Path, kind: str):
        self.target = target
        self.kind = kind
        self.written = False

    def write(self, fill: Callable[[Path], None]) -> Path:
        """Fill a staging folder, mark it, and exchange it with the target in one step."""
        parent = self.target.parent
        parent.mkdir(parents=True, exist_ok=True)
        _remove_dead_staging(parent, self.target.name)
        staging = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.allocator-{os.getpid()}-", dir=parent))
        try:
            os.chmod(staging, 0o777 & ~_umask())
            fill(staging)
            write_marker(staging, self.kind)
            if self.target.exists():
                _exchange(staging, self.target)  # staging now holds the old folder
                shutil.rmtree(staging)
            else:
                os.rename(staging, self.target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.written = True
        return self.target


@contextmanager
def claim_folder(target: str | Path, kind: str, inputs: Iterable[str | Path] = ()):
    """Check ``target`` and hold it for this run; yields a Claim whose write() puts the folder in place."""
    path = check_folder_target(target, kind, inputs)
    with _lock(path):
        yield Claim(path, kind)


def write_folder(
    target: str | Path, kind: str, fill: Callable[[Path], None], inputs: Iterable[str | Path] = ()
) -> Path:
    """Check, hold and write ``target`` in one go (fill(staging) writes the contents)."""
    with claim_folder(target, kind, inputs) as claim:
        return claim.write(fill)


@contextmanager
def _lock(path: Path):
    """An exclusive lock beside ``path`` for as long as the block runs; OutputError if another run holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.parent / f".{path.name}.allocator-lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise OutputError(
                [
                    Problem(
                        str(path),
                        f"another allocator run (process {holder}) is writing it now; wait for it to finish or choose another name",
                    )
                ]
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _remove_dead_staging(parent: Path, name: str) -> None:
    """Staging folders of ``name`` left by a process that no longer runs (it was killed)."""
    for entry in parent.glob(f".{name}.allocator-*"):
        match = _STAGING.match(entry.name)
        if match and match.group("name") == name and entry.is_dir() and not _alive(int(match.group("pid"))):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> None:
    """Swap two paths atomically (renameat2 with RENAME_EXCHANGE); where the system has none, two renames."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        if renameat2(_AT_FDCWD, os.fsencode(str(a)), _AT_FDCWD, os.fsencode(str(b)), _RENAME_EXCHANGE) == 0:
            return
        error = ctypes.get_errno()
        if error not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(error, os.strerror(error), str(b))
    # Without an atomic exchange: the old folder is moved aside first, so that it is never lost.
    aside = a.with_name(a.name + "-old")
    os.rename(b, aside)
    os.rename(a, b)
    os.rename(aside, a)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
