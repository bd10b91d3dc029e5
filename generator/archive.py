"""The archive in ``content/``: the only stateful store.

``content/digests/YYYY-MM-DD.yaml`` holds one digest day each (see ``ingest/yaml_records.py``);
``content/taxonomy.yaml`` holds the topic tags. The archive only ever grows: ingesting adds
days and papers, and a paper already on a day keeps what the file says about it, so a
correction made by hand survives a re-ingest. Every write goes to a temporary file first and
is renamed into place only after every file of the change has been written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from generator import files
from generator.cache import Cache
from generator.errors import DigestError, ErrorList, ParseError, raise_all
from generator.files import file_mode
from generator.ingest.clean import decode
from generator.ingest.yaml_records import dump_digest, parse_yaml
from generator.records import (
    Archive,
    Digest,
    assign_keys,
    digest_from_data,
    digest_to_data,
    merge_digests,
    merge_paper,
    source_prints,
)

DIGESTS = "digests"
#: The lock a writer holds (``locked``), in the content folder; git ignores it.
LOCK = ".lock"


def digest_path(content: Path, date: datetime.date) -> Path:
    return content / DIGESTS / f"{date.isoformat()}.yaml"


def newest_day(content: Path) -> datetime.date | None:
    """The newest day of the archive, by its files' names (nothing is read)."""
    days = []
    for path in (Path(content) / DIGESTS).glob("*.yaml"):
        try:
            days.append(datetime.date.fromisoformat(path.stem))
        except ValueError:
            continue
    return max(days, default=None)


def file_shas(content: Path) -> dict[str, str]:
    """The sha256 of each archive file's bytes, by name; a file that cannot be read is left
    out (``load`` reports it)."""
    shas = {}
    for path in sorted((Path(content) / DIGESTS).glob("*.yaml")):
        with contextlib.suppress(OSError):
            shas[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return shas


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}", path=path,
                         fix="an archive day is a readable YAML file; correct or remove "
                             "it") from exc


def _parsed_before(row: tuple[str, object] | None, sha: str | None,
                   path: Path) -> Digest | None:
    """The day the cache's ``row`` holds for ``path``, if it was parsed from bytes of this
    ``sha`` and is usable."""
    if sha is None or not row or row[0] != sha:
        return None
    digest = digest_from_data(row[1], str(path))
    return digest if digest is not None and digest.date.isoformat() == path.stem else None


def load(content: Path, *, missing_ok: bool = False, cache: Cache | None = None,
         shas: dict[str, str] | None = None) -> Archive:
    """Read every digest file; report every bad file at once. With ``missing_ok``, a content
    folder that does not exist yet is an empty archive (the first ingest makes it). With a
    ``cache``, a file whose bytes it has parsed before is not parsed again; with ``shas``
    (``file_shas`` of a moment before, under the same lock), a file whose sha256 is there and
    in the cache is not read again either."""
    folder = Path(content) / DIGESTS
    if missing_ok and not Path(content).exists():
        return Archive(digests=(), papers=())
    if not Path(content).is_dir():
        raise DigestError("no such content folder", path=content,
                          fix="pass --content DIR, or run from the project folder")
    digests, errors = [], []
    where = cache.where(content) if cache is not None else ""
    known = cache.archive_files(where) if cache is not None else {}
    seen: dict[str, tuple[str, object]] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
        try:
            row = known.get(path.name)
            sha = (shas or {}).get(path.name)
            digest = _parsed_before(row, sha, path)
            if digest is None:  # not given, changed since, or the cache's row is unusable
                data = _read(path)
                sha = hashlib.sha256(data).hexdigest()
                digest = _parsed_before(row, sha, path)
            if digest is not None:
                seen[path.name] = row
                digests.append((digest, sha))
                continue
            # The archive is written as UTF-8; a hand edit in another encoding is an error,
            # not a guess.
            text, _ = decode(data, str(path), latin1_ok=False)
            digest = parse_yaml(text, str(path))
            if digest.date is None:
                raise ParseError("no date", path=path, line=1, fix="add 'date: YYYY-MM-DD'")
            if path.stem != digest.date.isoformat():
                raise ParseError(f"the file is named for {path.stem} but holds "
                                 f"date {digest.date}", path=path, line=1,
                                 fix=f"rename it to {digest.date}.yaml or correct the date")
            digests.append((digest, sha))
            seen[path.name] = (sha, digest_to_data(digest))
        except ErrorList as exc:
            errors.extend(exc.errors)
        except DigestError as exc:
            errors.append(exc)
    raise_all(errors)
    if cache is not None and {n: s for n, (s, _) in seen.items()} != \
            {n: s for n, (s, _) in known.items()}:
        with contextlib.suppress(sqlite3.Error):  # a full disk: the cache is only a cache
            cache.put_archive_files(where, seen, known)
    digests.sort(key=lambda item: item[0].date)
    days = tuple(digest for digest, _ in digests)
    return Archive(digests=days, papers=tuple(merge_digests(days)),
                   prints=source_prints(digests))


def plan_additions(archive: Archive, incoming: list[Digest]) -> list[Digest]:
    """The digest days to write so that the archive also holds ``incoming``.

    Pure. Incoming papers take the keys the archive already uses for them. On a day the
    archive already has, its papers keep their ranks and what the file says about them (only
    empty fields are filled in), and new papers are added after them. Days that would not
    change are left out, so ingesting the same digest twice writes nothing."""
    by_date = {d.date: d for d in archive.digests}
    known = list(archive.papers)
    changed: dict[datetime.date, Digest] = {}
    for digest in sorted(incoming, key=lambda d: d.date):
        digest = assign_keys(digest, known)
        current = changed.get(digest.date) or by_date.get(digest.date)
        merged = _merge_day(current, digest) if current else digest
        if current is None or merged != current:
            changed[digest.date] = merged
        known.extend(digest.papers)
    return [changed[d] for d in sorted(changed)]


#: A day with at least this many papers in the same order as another day is that day again.
SAME_DAY_PAPERS = 5


def refuse_copies(archive: Archive, incoming: list[Digest]) -> None:
    """Refuse a digest that is a day the archive already holds under another date: the same
    papers in the same order (a page ingested again with another --date). Pure."""
    by_identity = {p.identity: p.key for p in archive.papers}
    days = {tuple(p.key for p in d.papers): d.date for d in archive.digests
            if len(d.papers) >= SAME_DAY_PAPERS}
    for digest in incoming:
        keys = tuple(by_identity.get(p.identity, p.key) for p in digest.papers)
        other = days.get(keys)
        if other is not None and other != digest.date:
            raise DigestError(f"these {len(keys)} papers, in this order, are the digest of "
                              f"{other} already", path=digest.origin or None,
                              fix=f"pass --date {other} if this is that day's digest")


def _merge_day(current: Digest, incoming: Digest) -> Digest:
    papers = {p.key: p for p in current.papers}
    for paper in incoming.papers:
        # What the file already says wins; the incoming copy only fills empty fields.
        papers[paper.key] = merge_paper(paper, papers[paper.key]) if paper.key in papers \
            else paper
    # Dict order: the day's papers first, in their ranks, then the new ones.
    return dataclasses.replace(current, papers=tuple(papers.values())).with_date(current.date)


@contextlib.contextmanager
def locked(content: Path, *, wait: float = 60.0) -> Iterator[None]:
    """Hold the archive for one writer (see ``files.locked``); temporary files that a killed
    writer left are removed here."""
    content = Path(content)
    try:
        content.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DigestError(f"cannot write the archive: {exc.strerror or exc}", path=content,
                          fix="check the folder's permissions; nothing was changed") from exc
    with files.locked(content / LOCK, what="the archive", wait=wait):
        for stale in (content / DIGESTS).glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        yield


def write_digests(content: Path, digests: list[Digest]) -> list[Path]:
    """Write the given days atomically: every file is written to a temporary file beside its
    target first, and only when all are written are they renamed into place. Call it holding
    :func:`locked`."""
    folder = Path(content) / DIGESTS
    staged: list[tuple[Path, Path]] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for digest in digests:
            target = digest_path(Path(content), digest.date)
            handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
            staged.append((Path(temp), target))
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
                out.write(dump_digest(digest))
            # mkstemp makes the file private; an archive file is as readable as any other.
            os.chmod(temp, file_mode())
        for temp, target in staged:
            os.replace(temp, target)
    except OSError as exc:
        raise DigestError(f"cannot write the archive: {exc.strerror or exc}", path=folder,
                          fix="check free space and permissions; no file was changed") from exc
    finally:
        for temp, _ in staged:
            if temp.exists():
                temp.unlink()
    return [target for _, target in staged]
