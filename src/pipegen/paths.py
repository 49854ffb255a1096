"""The one way pipegen reads a file a user named (an option, the descriptor, a report, a
data set, a state file), and places the files it writes, without being led astray:

- regular files only: no FIFO (opening one blocks forever), device (/dev/zero never ends),
  socket or directory, checked before anything is opened and again once it is;
- nothing under /proc, /sys or /dev (regular-looking files there hold secrets such as
  /proc/self/environ);
- symlinks are followed only while they stay inside the repository holding the path named
  (the nearest folder above it with .git, else its own folder), or inside a folder listed
  in PIPEGEN_ALLOW_READ (os.pathsep-separated), which is how a user says otherwise;
- at most a size cap, and text must be UTF-8 (the refusal says where it stops being UTF-8).

Every refusal is one clear error naming the path, of the class the caller passes (a
UsageError, exit 2, by default; gates pass EvaluationError, exit 3); nothing here raises a
traceback for a file it was handed."""
from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path
from typing import BinaryIO

from pipegen.errors import PipegenError, UsageError

MAX_READ_BYTES = 16 * 1024 * 1024  # a generated pipeline or a descriptor is far smaller
MAX_STREAM_BYTES = 8 * 1024 ** 3  # reports and data sets read as a stream (never whole in memory)
ALLOW_READ_VARIABLE = "PIPEGEN_ALLOW_READ"
SYSTEM_TREES = (Path("/proc"), Path("/sys"), Path("/dev"))
ErrorClass = type[PipegenError]


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def inside(root: Path, relative: str | Path) -> Path:
    """`root / relative`, refused when it (or a folder on the way) is a symlink that
    leads out of `root`. A symlink that stays inside is followed: the real path is
    returned, so a write replaces the file the link points to, not the link."""
    real_root = Path(os.path.realpath(root))
    path = root / relative
    real = Path(os.path.realpath(path))
    if real != real_root and real_root not in real.parents:
        raise UsageError(f"{path} leads outside the repository (to {real}); pipegen does not read or write "
                         "there. Remove the symlink (or the '..') or point it inside the repository")
    return real


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def repository_of(path: Path) -> Path:
    """The nearest folder at or above the folder of `path` holding .git (a repository's
    root, a worktree's or a submodule's), else that folder itself. Not resolved: a
    symlinked folder on the way is where the user said the file is."""
    folder = Path(os.path.abspath(path)).parent
    for candidate in (folder, *folder.parents):
        try:
            if os.path.lexists(candidate / ".git"):
                return candidate
        except (OSError, ValueError):  # a name too long, a NUL: not a repository
            break
    return folder


def _allowed_folders() -> list[Path]:
    listed = os.environ.get(ALLOW_READ_VARIABLE, "")
    return [Path(os.path.realpath(folder)) for folder in listed.split(os.pathsep) if folder.strip()]


def confined(path: Path, root: Path | None = None, error: ErrorClass = UsageError) -> Path:
    """The real path behind the user-named `path`: refused under /proc, /sys or /dev, and
    when a symlink leads it out of `root` (default: the repository holding `path`) and out
    of every PIPEGEN_ALLOW_READ folder."""
    try:
        real = Path(os.path.realpath(path))
    except (OSError, ValueError) as exc:
        raise error(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    for tree in SYSTEM_TREES:
        if _within(real, tree):
            raise error(f"{path} is {'' if real == Path(os.path.abspath(path)) else f'a link to {real}, '}"
                        f"a file under {tree}: pipegen reads only regular files of the project")
    real_root = Path(os.path.realpath(root if root is not None else repository_of(path)))
    if _within(real, real_root) or any(_within(real, folder) for folder in _allowed_folders()):
        return real
    raise error(f"{path} leads outside the repository (to {real}); pipegen does not read there. Point it "
                f"inside the repository, or list the folder in {ALLOW_READ_VARIABLE} to allow it")


def explicit_target(root: Path, path: Path) -> Path:
    """A path the user named (--checklist, --output): anywhere they like, but one that
    sits in the repository is held to `inside` (no symlink out of it)."""
    absolute = Path(os.path.abspath(path))
    root_absolute = Path(os.path.abspath(root))
    if root_absolute in absolute.parents:
        return inside(root, absolute.relative_to(root_absolute))
    return absolute


def file_mode() -> int:
    """The mode a new file gets from the umask (0666 minus the umask), as `open` would give."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def check_regular(path: Path, missing_ok: bool = True, error: ErrorClass = UsageError) -> os.stat_result | None:
    """The file's status when it is a regular file, None when it does not exist (and
    `missing_ok`); anything else (directory, FIFO, device) is refused without opening it."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        if missing_ok:
            return None
        raise error(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise error(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if not stat.S_ISREG(status.st_mode):
        raise error(f"{path} is {_kind(status.st_mode)}, not a regular file")
    return status


def _size(limit: int) -> str:
    return f"{limit // 1024} KiB" if limit <= 1024 ** 2 else f"{limit // 1024 ** 2} MiB"


def _open_regular(path: Path, limit: int, root: Path | None, error: ErrorClass) -> int:
    """A descriptor open on the regular file `path` names, no larger than `limit`."""
    real = confined(path, root, error)
    check_regular(path, missing_ok=False, error=error)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        handle = os.open(real, flags)  # non-blocking: a FIFO swapped in since the check cannot block
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            raise error(f"{path} is {_kind(status.st_mode)}, not a regular file")
        if status.st_size > limit:
            raise error(f"{path} is larger than {_size(limit)} ({status.st_size:,} bytes); pipegen reads at most "
                        f"{_size(limit)} from it")
        fcntl.fcntl(handle, fcntl.F_SETFL, fcntl.fcntl(handle, fcntl.F_GETFL) & ~getattr(os, "O_NONBLOCK", 0))
    except BaseException:
        os.close(handle)
        raise
    return handle


def read_bytes(path: Path, limit: int = MAX_READ_BYTES, *, root: Path | None = None,
               error: ErrorClass = UsageError) -> bytes:
    """At most `limit` bytes of the regular file `path` names (see the module's rules)."""
    handle = _open_regular(path, limit, root, error)
    chunks = []
    size = 0
    try:
        while size <= limit:  # a file that grows while it is read is still cut off at the limit
            chunk = os.read(handle, 1024 * 1024)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(handle)
    if size > limit:
        raise error(f"{path} is larger than {_size(limit)}; pipegen reads at most {_size(limit)} from it")
    return b"".join(chunks)


def open_binary(path: Path, limit: int | None = None, *, root: Path | None = None,
                error: ErrorClass = UsageError) -> BinaryIO:
    """The regular file `path` names, open for reading as a stream (a report or a data set
    too large to hold whole; at most MAX_STREAM_BYTES by default), under the module's rules."""
    return os.fdopen(_open_regular(path, MAX_STREAM_BYTES if limit is None else limit, root, error), "rb")


def append_text(path: Path, text: str, error: ErrorClass = UsageError) -> None:
    """Appends to a file the CI named (its step summary, its outputs file): created when
    missing, refused when it is not a regular file (a FIFO would block the job)."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        check_regular(path, missing_ok=True, error=error)
        handle = os.open(path, flags, 0o666)
    except OSError as exc:
        raise error(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise error(f"{path} is {_kind(os.fstat(handle).st_mode)}, not a regular file")
        with os.fdopen(os.dup(handle), "a", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as exc:
        raise error(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        os.close(handle)


def utf8_problem(data: bytes) -> tuple[int, int, str] | None:
    """(line, column, message) where `data` stops being UTF-8 text, or None when it is."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return 1, 1, "the file is UTF-16; save it as UTF-8"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        line_start = before.rfind(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        return before.count(b"\n") + 1, column, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8"
    return None


def decode(data: bytes, path: Path | str, error: ErrorClass = UsageError) -> str:
    """UTF-8 text; anything else is refused with where it stops being UTF-8."""
    problem = utf8_problem(data)
    if problem is not None:
        line, column, message = problem
        raise error(f"{path}:{line}:{column}: {message}")
    return data.decode("utf-8")


def read_text(path: Path, limit: int = MAX_READ_BYTES, *, root: Path | None = None,
              error: ErrorClass = UsageError) -> str:
    """The UTF-8 text of the regular file `path` names (see the module's rules)."""
    return decode(read_bytes(path, limit, root=root, error=error), path, error)


def write_error(path: Path, exc: OSError) -> UsageError:
    """A clear message for a file that could not be written."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return UsageError(f"cannot write {path}: {reason} (check the folder's permissions)")
    return UsageError(f"cannot write {path}: {reason}")
