"""The build cache: everything derived that a later command reuses, behind one owner, in one
SQLite database (``build/docs-cache/cache.sqlite``). Never the source of truth: the archive is.

What it keeps, each keyed by what it was made from:

- ``archive``: each archive file's parsed digest, by the file's bytes (a SHA-256 of them), so
  that no command parses a file it has read before (``digest build``, ``list``, ``fetch``,
  ``email``);
- ``tags``: each paper's tags, by the paper's fingerprint and the taxonomy, model and code;
- ``related``: each paper's related papers and word vector (see similarity.relate), and
  ``authored``: its papers by the same authors (see similarity.same_authors);
- ``outputs``: each file a build wrote into docs_dir and the site, with its size and
  modification time, and the fingerprint of what a page was made from.

Values are kept in Python's ``marshal`` format (plain data only: four times faster to read
than JSON, which the one-day rebuild felt), and the database's version number says which
Python wrote it, so another Python starts a new one. Nothing read from it is trusted blindly:
every row carries a checksum of its key and value bytes, and a row that fails it, that does
not parse or has the wrong shape is dropped and made again; a database that SQLite cannot
open is deleted and started anew (the next build is a full one). Outputs are checked
against the files themselves (see build.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

#: The cache's file in the cache folder; a new schema starts a new file.
FILE = "cache.sqlite"
SCHEMA = 5
#: The database's version number: the schema, the Python that wrote it and marshal's format.
VERSION = int(f"{SCHEMA}{sys.version_info[0]}{sys.version_info[1]:02d}{marshal.version}")

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB, check_ TEXT);
CREATE TABLE IF NOT EXISTS archive (folder TEXT, name TEXT, sha256 TEXT, value BLOB,
                                    check_ TEXT, PRIMARY KEY (folder, name));
CREATE TABLE IF NOT EXISTS tags (version TEXT, fingerprint TEXT, value BLOB, check_ TEXT,
                                 PRIMARY KEY (version, fingerprint));
CREATE TABLE IF NOT EXISTS related (key TEXT PRIMARY KEY, value BLOB, check_ TEXT);
CREATE TABLE IF NOT EXISTS authored (key TEXT PRIMARY KEY, value BLOB, check_ TEXT);
CREATE TABLE IF NOT EXISTS outputs (root TEXT PRIMARY KEY, value BLOB, check_ TEXT);
"""


#: The kinds of related-papers state a build keeps, each in its table of that name (see
#: Cache.related).
RELATED_KINDS = ("related", "authored")


def _known_kind(kind: str) -> None:
    """A kind names a table in SQL: only RELATED_KINDS may."""
    if kind not in RELATED_KINDS:
        raise ValueError(f"no related-papers state of kind {kind!r}")


def _check(*keys: str, value: bytes) -> str:
    digest = hashlib.blake2b(digest_size=12)
    for part in keys:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    digest.update(value)
    return digest.hexdigest()


def _encode(value: object) -> bytes:
    return marshal.dumps(value, marshal.version)


class Cache:
    """The build cache in ``folder``. Open it with :func:`open_cache`."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / FILE
        self._db = self._connect()

    def where(self, folder: Path) -> str:
        """A folder as the cache names it: its path from the cache's own folder. The name
        does not depend on the working folder, and a project moved or cloned elsewhere with
        its cache restored beside it finds its rows."""
        return Path(os.path.relpath(Path(folder).resolve(), self.folder.resolve())).as_posix()

    def _connect(self) -> sqlite3.Connection:
        # A cache folder that is a file, or a database SQLite cannot read, is thrown away.
        if self.folder.exists() and not self.folder.is_dir():
            self.folder.unlink()
        self.folder.mkdir(parents=True, exist_ok=True)
        for attempt in range(2):
            try:
                db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version not in (0, VERSION):
                    raise sqlite3.DatabaseError(f"schema {version}")
                db.executescript(_TABLES)
                db.execute(f"PRAGMA user_version={VERSION}")
                return db
            except sqlite3.DatabaseError:
                with contextlib.suppress(NameError, sqlite3.Error):
                    db.close()
                if attempt:
                    raise
                self.discard()
        raise AssertionError("unreachable")

    def discard(self) -> None:
        """Delete the database (a damaged one, or for a full build)."""
        for suffix in ("", "-wal", "-shm", "-journal"):
            target = self.path.with_name(self.path.name + suffix)
            if target.is_dir() and not target.is_symlink():
                import shutil
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    def reset(self) -> None:
        """Start empty (``digest build --full``)."""
        self.close()
        self.discard()
        self._db = self._connect()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- reading and writing checked rows ------------------------------------------------------

    def _rows(self, sql: str, args: tuple) -> Iterator[tuple]:
        """Rows whose checksum holds: (key..., value) with the value read back."""
        try:
            cursor = self._db.execute(sql, args)
            for row in cursor:
                *keys, value, check = row
                if not isinstance(value, bytes) or check != _check(*map(str, keys),
                                                                   value=value):
                    continue
                try:
                    yield (*keys, marshal.loads(value))
                except (ValueError, EOFError, TypeError):
                    continue
        except sqlite3.DatabaseError:
            return

    def get(self, key: str) -> object:
        for _, value in self._rows("SELECT key, value, check_ FROM meta WHERE key = ?",
                                   (key,)):
            return value
        return None

    def set(self, key: str, value: object) -> None:
        data = _encode(value)
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?, ?)",
                         (key, data, _check(key, value=data)))

    # -- the archive -------------------------------------------------------------------------

    def archive_files(self, folder: str) -> dict[str, tuple[str, object]]:
        """name -> (sha256, parsed data) of the archive files read before in ``folder``."""
        return {name: (sha, value) for _, name, sha, value in self._rows(
            "SELECT folder, name, sha256, value, check_ FROM archive WHERE folder = ?",
            (folder,))}

    def put_archive_files(self, folder: str, files: dict[str, tuple[str, object]],
                          known: dict[str, tuple[str, object]] | None = None) -> None:
        """Make the ``folder``'s rows ``files`` (name -> (sha256, data)). ``known`` is what
        ``archive_files`` gave: only the rows that differ from it are written or removed."""
        known = known or {}
        with self.transaction():
            # Rows of files no longer there (garbled ones too, which ``known`` left out).
            names = [name for name, in self._db.execute(
                "SELECT name FROM archive WHERE folder = ?", (folder,))]
            self._db.executemany("DELETE FROM archive WHERE folder = ? AND name = ?", [
                (folder, name) for name in names if name not in files])
            self._db.executemany("INSERT OR REPLACE INTO archive VALUES (?, ?, ?, ?, ?)", [
                (folder, name, sha, data, _check(folder, name, sha, value=data))
                for name, (sha, value) in sorted(files.items())
                if known.get(name, (None,))[0] != sha for data in [_encode(value)]])

    # -- tags --------------------------------------------------------------------------------

    def tags(self, version: str) -> dict[str, tuple[str, ...]]:
        return {fingerprint: tuple(value) for _, fingerprint, value in self._rows(
            "SELECT version, fingerprint, value, check_ FROM tags WHERE version = ?",
            (version,))
            if isinstance(value, list) and all(isinstance(t, str) for t in value)}

    def put_tags(self, version: str, tags: dict[str, tuple[str, ...]],
                 removed: Iterable[str] = ()) -> None:
        """Add the tags of papers tagged now; the ``removed`` ones and rows of other versions
        go."""
        with self.transaction():
            self._db.execute("DELETE FROM tags WHERE version != ?", (version,))
            self._db.executemany("DELETE FROM tags WHERE version = ? AND fingerprint = ?",
                                 [(version, fingerprint) for fingerprint in removed])
            self._db.executemany("INSERT OR REPLACE INTO tags VALUES (?, ?, ?, ?)", [
                (version, fingerprint, data, _check(version, fingerprint, value=data))
                for fingerprint, value in tags.items() for data in [_encode(list(value))]])

    # -- related papers ------------------------------------------------------------------------

    def related(self, version: str, kind: str = "related") -> dict[str, list]:
        """The state of the last build's related papers (``kind`` "related") or papers by the
        same authors ("authored"), if made with ``version``."""
        _known_kind(kind)
        if self.get(f"{kind} version") != version:
            return {}
        return {key: value for key, value in self._rows(
            f"SELECT key, value, check_ FROM {kind}", ()) if isinstance(value, list)}

    def put_related(self, version: str, state: dict[str, list],
                    changed: Iterable[str] | None = None, kind: str = "related") -> None:
        """Store the state; with ``changed``, only those keys are written (and keys no longer
        in ``state`` removed)."""
        _known_kind(kind)
        with self.transaction():
            if changed is None or self.get(f"{kind} version") != version:
                self._db.execute(f"DELETE FROM {kind}")
                changed = state.keys()
            else:
                gone = [(k,) for (k,) in self._db.execute(f"SELECT key FROM {kind}")
                        if k not in state]
                self._db.executemany(f"DELETE FROM {kind} WHERE key = ?", gone)
            self._db.executemany(f"INSERT OR REPLACE INTO {kind} VALUES (?, ?, ?)", [
                (key, data, _check(key, value=data)) for key in changed
                for data in [_encode(state[key])]])
            self.set(f"{kind} version", version)

    # -- outputs -------------------------------------------------------------------------------

    def outputs(self, root: str) -> dict[str, list]:
        """path -> [fingerprint, size, mtime_ns] of the files a build wrote under ``root``.
        A root's records are one value with one checksum: a build with nothing to do reads
        them all (326,000 at 100,000 papers: 1.6 s as rows, 0.5 s as one value)."""
        for _, value in self._rows("SELECT root, value, check_ FROM outputs WHERE root = ?",
                                   (root,)):
            if isinstance(value, dict):
                return {path: row for path, row in value.items()
                        if type(path) is str and type(row) is list and len(row) == 3}
        return {}

    def put_outputs(self, root: str, rows: dict[str, list], removed: Iterable[str] = (),
                    whole: bool = False, base: dict[str, list] | None = None) -> None:
        """Record files written under ``root`` (path -> [fingerprint, size, mtime_ns]) and
        forget the ``removed`` ones; with ``whole``, ``rows`` are all of them. ``base`` is
        what ``outputs`` gave this build, if it was read (it is not changed)."""
        with self.transaction():
            current = {} if whole else dict(self.outputs(root) if base is None else base)
            for path in removed:
                current.pop(path, None)
            current.update(rows)
            data = _encode(current)
            self._db.execute("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?)",
                             (root, data, _check(root, value=data)))

    def forget_outputs(self, root: str) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM outputs WHERE root = ?", (root,))


def open_cache(folder: Path) -> Cache:
    """The cache in ``folder``; a damaged one is started anew."""
    return Cache(Path(folder))
