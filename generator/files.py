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
import tempfile
from pathlib import Path


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


def read_folder(folder: Path, pattern: str = "*") -> dict[str, bytes]:
    """Every file under ``folder`` whose name matches ``pattern``, by relative POSIX path;
    nothing if the folder is missing."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob(pattern)) if p.is_file()}


def digest_files(digest: hashlib._Hash, files: dict[str, bytes]) -> None:
    """Add ``files`` (path -> bytes) to ``digest``, in path order, each path and length
    before its bytes so that no two different sets of files feed it the same stream."""
    for path in sorted(files):
        digest.update(f"{path}\n{len(files[path])}\n".encode())
        digest.update(files[path])
