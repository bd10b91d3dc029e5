"""Folders that must hold exactly a given set of files: docs_dir, the search cache, the
search bundles in the site.

Only what differs is written, so unchanged files keep their modification times: MkDocs'
dirty build reads them to tell which pages changed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import filelock

from generator.errors import DigestError


def replace_bytes(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` by writing a temporary file beside it and renaming it into
    place: a reader (or a hard link to the old file) never sees a half-written file, and a
    failed write leaves the old file as it was."""
    target = Path(target)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, file_mode())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


@functools.cache
def file_mode() -> int:
    """The mode a new file gets from open() (0o666 less the umask): a temporary file made by
    mkstemp is private, and the file it becomes should be as readable as any other."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def locked(lock_file: Path, *, what: str, wait: float) -> Iterator[None]:
    """Hold ``lock_file`` while the block runs: another process waits up to ``wait`` seconds,
    then is told who holds it. The lock is the operating system's (flock), so it ends with its
    holder, even a killed one; the file stays, empty of meaning (git ignores it)."""
    lock_file = Path(lock_file)
    holder = lock_file.with_name(lock_file.name + ".holder")
    lock = filelock.FileLock(lock_file, timeout=wait)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        try:
            who = holder.read_text(encoding="utf-8")
        except OSError:
            who = "another process"
        raise DigestError(f"another digest is writing {what} ({who}); waited {wait:g} s",
                          path=lock_file.parent, fix="try again when it has finished") from exc
    except OSError as exc:
        raise DigestError(f"cannot lock {what}: {exc.strerror or exc}", path=lock_file.parent,
                          fix="check the folder's permissions; nothing was changed") from exc
    try:
        with contextlib.suppress(OSError):
            holder.write_text(f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}",
                              encoding="utf-8")
        yield
    finally:
        with contextlib.suppress(OSError):
            holder.unlink()
        lock.release()


def sync_folder(folder: Path, files: dict[str, bytes],
                keep: frozenset[str] = frozenset()) -> tuple[int, int]:
    """Write the ``files`` (relative POSIX path -> bytes) that are new or changed, remove every
    other file except those named in ``keep``, and remove emptied folders.
    Returns (written, removed)."""
    folder = Path(folder)
    written = 0
    for path, data in files.items():
        target = folder / path
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        replace_bytes(target, data)
        written += 1
    removed = 0
    if folder.is_dir():
        for existing in sorted(folder.rglob("*"), reverse=True):
            relative = existing.relative_to(folder).as_posix()
            if existing.is_file() and relative not in files and relative not in keep:
                existing.unlink()
                removed += 1
            elif existing.is_dir() and not any(existing.iterdir()):
                existing.rmdir()
    return written, removed


def folder_files(folder: Path, pattern: str = "*") -> dict[str, Path]:
    """Every file under ``folder`` whose name matches ``pattern``, by relative POSIX path, in
    path order; nothing if the folder is missing."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p
            for p in sorted(folder.rglob(pattern)) if p.is_file()}


def read_folder(folder: Path, pattern: str = "*") -> dict[str, bytes]:
    """The bytes of ``folder_files``."""
    return {path: file.read_bytes() for path, file in folder_files(folder, pattern).items()}


def link_or_copy(source: Path, target: Path) -> None:
    """``target`` made a new name of ``source`` (a hard link, where the file system has them,
    else a copy). Only for files nobody changes in place: every write here replaces a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def digest_files(digest: hashlib._Hash, files: dict[str, bytes]) -> None:
    """Add ``files`` (path -> bytes) to ``digest``, in path order, each path and length
    before its bytes so that no two different sets of files feed it the same stream."""
    for path in sorted(files):
        digest.update(f"{path}\n{len(files[path])}\n".encode())
        digest.update(files[path])


@functools.cache
def _code() -> dict[str, bytes]:
    return read_folder(Path(__file__).parent, "*.py")


def digest_code(digest: hashlib._Hash) -> None:
    """Add this package's code to ``digest`` (as ``digest_files`` does): what the process
    runs, read once a process."""
    digest_files(digest, _code())


def stat_of(path: Path) -> tuple[int, int] | None:
    """(size, modification time in ns) of a regular file, else None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    import stat as stat_module
    return (st.st_size, st.st_mtime_ns) if stat_module.S_ISREG(st.st_mode) else None


def walk_files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every regular file under ``folder`` (relative POSIX path) with its ``stat_of``;
    symbolic links and other special files are left out."""
    import stat as stat_module
    folder = Path(folder)
    out: dict[str, tuple[int, int]] = {}

    def visit(directory: str, prefix: str) -> None:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return
        for entry in entries:
            name = prefix + entry.name
            try:
                # A folder is known from the listing (no stat of its own: a site has one a
                # paper); a file needs its size and time.
                if entry.is_dir(follow_symlinks=False):
                    visit(entry.path, name + "/")
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat_module.S_ISREG(st.st_mode):
                out[name] = (st.st_size, st.st_mtime_ns)

    if folder.is_dir():
        visit(str(folder), "")
    return out
