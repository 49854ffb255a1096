"""Reading and placing files without being led astray: no symlink that leaves the
repository, no FIFO or device (opening one can block forever or leak a secret such as
/proc/self/environ), no directory, no undecodable text. Every refusal is a UsageError
(exit 2) naming the path; nothing here raises a traceback for a file it was handed."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from pipegen.errors import UsageError

MAX_READ_BYTES = 16 * 1024 * 1024  # a generated pipeline or a descriptor is far smaller


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


def check_regular(path: Path, missing_ok: bool = True) -> os.stat_result | None:
    """The file's status when it is a regular file, None when it does not exist (and
    `missing_ok`); anything else (directory, FIFO, device) is refused without opening it."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        if missing_ok:
            return None
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(status.st_mode):
        raise UsageError(f"{path} is {_kind(status.st_mode)}, not a regular file")
    return status


def read_bytes(path: Path, limit: int = MAX_READ_BYTES) -> bytes:
    """At most `limit` bytes of a regular file (a larger one is refused). Opened
    non-blocking and checked again once open, so a FIFO swapped in never blocks."""
    check_regular(path, missing_ok=False)
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            raise UsageError(f"{path} is {_kind(status.st_mode)}, not a regular file")
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(handle, 1024 * 1024)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(handle)
    if size > limit:
        raise UsageError(f"{path} is larger than {limit // 1024} KiB")
    return b"".join(chunks)


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


def decode(data: bytes, path: Path) -> str:
    """UTF-8 text; anything else is refused with where it stops being UTF-8."""
    problem = utf8_problem(data)
    if problem is not None:
        line, column, message = problem
        raise UsageError(f"{path}:{line}:{column}: {message}")
    return data.decode("utf-8")


def read_text(path: Path, limit: int = MAX_READ_BYTES) -> str:
    """A regular file's UTF-8 text, or a UsageError naming the path."""
    return decode(read_bytes(path, limit), path)


def write_error(path: Path, exc: OSError) -> UsageError:
    """A clear message for a file that could not be written."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return UsageError(f"cannot write {path}: {reason} (check the folder's permissions)")
    return UsageError(f"cannot write {path}: {reason}")
