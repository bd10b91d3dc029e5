"""The built site folder (``--out``): which folder a build may write, and how a new site
replaces the old one.

A build never writes into the site directly. MkDocs and the search stage write into a stage
beside it (``.site.new`` for ``site``). A full build's stage is the whole new site, swapped in
by two renames (``site`` -> ``.site.old``, ``.site.new`` -> ``site``). A rebuild's stage holds
only the files that changed; once all are written, a journal names the files to remove and
the changed files are renamed into the site one by one (each file is whole, old or new, at
every moment). So a failed or disk-full build leaves the previous site as it was, and a build
killed while it moves files in is finished by the next build before it does anything else.

A folder is only ever emptied or replaced when it is new, empty, or holds :data:`MARKER`, the
file every build leaves in its site: ``--out`` pointing at the archive, the project or a folder
of someone's files is refused before anything is written.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import BuildError
from generator.files import replace_bytes

#: Left in every site a build made; a folder without it is never emptied or replaced.
MARKER = ".paper-digest-site"
_MARKER_TEXT = "Built by paper-digest (`digest build`); the whole folder is replaced on a build.\n"


def stage_of(out: Path) -> Path:
    return out.with_name(f".{out.name}.new")


def old_of(out: Path) -> Path:
    return out.with_name(f".{out.name}.old")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_out(out: Path, *, keep: dict[str, Path]) -> None:
    """Refuse a site folder that a build must not replace: one that is, holds or lies inside
    a folder named in ``keep`` (what -> folder: the archive, docs_dir, the templates...), the
    project folder, a file, or a folder of files no build made."""
    out = Path(out)
    target = out.resolve()
    if target == Path(target.anchor) or target == Path.home().resolve():
        raise BuildError(f"refusing to replace {target}", path=out,
                         fix="pass --out a folder of its own, e.g. --out site")
    for what, folder in keep.items():
        folder = Path(folder).resolve()
        if _inside(target, folder) or _inside(folder, target):
            relation = "is" if target == folder else \
                "is inside" if _inside(target, folder) else "holds"
            raise BuildError(f"the site folder {relation} {what} ({folder}); a build replaces "
                             "its site folder whole", path=out,
                             fix="pass --out a folder of its own, e.g. --out site")
    if out.exists() and not out.is_dir():
        raise BuildError("the site folder is a file", path=out,
                         fix="pass --out a folder (new, empty, or made by digest build)")
    if out.is_dir() and not (out / MARKER).is_file() and any(out.iterdir()):
        raise BuildError("the folder holds files that digest build did not write, and a build "
                         "replaces its site folder whole", path=out,
                         fix="pass --out a new or empty folder (if this is a site built by an "
                             "older paper-digest, delete it first)")
    for beside in (stage_of(out), old_of(out)):
        if (beside.exists() or beside.is_symlink()) and not _ours(beside):
            raise _in_the_way(beside, out)


#: Written first into every stage a build makes: a folder beside the site without it (or the
#: site's marker) is someone else's, and is never removed.
STAGE_MARKER = ".paper-digest-stage"


def _ours(folder: Path) -> bool:
    """Whether a folder beside the site is one a build made (a stage or a site moved aside)."""
    if not folder.is_dir() or folder.is_symlink():
        return False
    return (folder / MARKER).is_file() or (folder / STAGE_MARKER).is_file() \
        or not any(folder.iterdir())


def discard(folder: Path) -> None:
    """Remove a folder a build made, its markers last: a build stopped half-way through
    leaves a folder that still says whose it is (``shutil.rmtree`` removes files in any
    order, so a stop could leave a marker-less remainder that the next build had to refuse)."""
    if not folder.is_dir() or folder.is_symlink():
        with contextlib.suppress(FileNotFoundError):
            folder.unlink()
        return
    markers = (JOURNAL, STAGE_MARKER, MARKER)
    for root, dirs, files in os.walk(folder, topdown=False):
        top = Path(root) == folder
        for name in files:
            if not (top and name in markers):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(root, name))
        for name in dirs:
            path = os.path.join(root, name)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path) if os.path.islink(path) else os.rmdir(path)
    for name in markers:  # the journal first: a stage with one is finished, not removed
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()
    folder.rmdir()


def _in_the_way(folder: Path, out: Path) -> BuildError:
    return BuildError(f"{folder.name} beside the site folder was not made by digest build, "
                      "and a build needs that name", path=folder,
                      fix=f"move it away (nothing was changed), or pass --out another folder "
                          f"than {out}")


def recover(out: Path) -> None:
    """Undo what a build stopped half-way left beside ``out``: a stage is removed; a site
    moved aside but not replaced is moved back. A folder of those names that a build did not
    make is left alone, and the build stops."""
    out = Path(out)
    old = old_of(out)
    if old.exists() or old.is_symlink():
        if not _ours(old):
            raise _in_the_way(old, out)
        if not out.exists():
            os.replace(old, out)
        else:
            discard(old)
    stage = stage_of(out)
    if stage.exists() or stage.is_symlink():
        if not _ours(stage):
            raise _in_the_way(stage, out)
        if (stage / JOURNAL).is_file() and out.is_dir():
            _apply(stage, out)  # a build stopped while moving its files in: finish the move
        else:
            discard(stage)


#: In a stage whose files are being moved into the site: the site paths to remove. A build
#: stopped while it moves them is finished by the next one (``recover``).
JOURNAL = ".paper-digest-commit"


@dataclass
class Stage:
    """A folder beside the site that a build writes into (``staged``). ``removed``: site
    paths to delete when the stage is committed file by file."""

    path: Path
    whole: bool
    removed: list[str] = field(default_factory=list)
    #: After the commit: the site paths written (file by file) - or every file (whole).
    written: list[str] = field(default_factory=list)


@contextlib.contextmanager
def staged(out: Path, *, whole: bool) -> Iterator[Stage]:
    """A stage to build in. ``whole``: the stage becomes the new site, swapped in for ``out``
    when the block ends without an error. Else the stage holds only the files that changed,
    moved into ``out`` one by one (a file whose bytes are the same is left as it was), and
    ``removed`` is deleted: a build stopped while it moves them leaves a journal, and the next
    build finishes the move before anything else. A failed block removes the stage; the site
    is as it was."""
    out = Path(out)
    recover(out)
    stage = stage_of(out)
    try:
        stage.parent.mkdir(parents=True, exist_ok=True)
        stage.mkdir()
        (stage / STAGE_MARKER).write_bytes(b"")
    except OSError as exc:
        with contextlib.suppress(OSError):
            discard(stage)
        raise _write_error(exc, out) from exc
    result = Stage(stage, whole)
    try:
        yield result
        if whole:
            replace_bytes(stage / MARKER, _MARKER_TEXT.encode())
            (stage / STAGE_MARKER).unlink()
            swap(stage, out)
            result.written = _walk(out)
        else:
            replace_bytes(stage / JOURNAL, json.dumps(sorted(result.removed)).encode())
            result.written = _apply(stage, out)
    except OSError as exc:
        raise _write_error(exc, out) from exc
    finally:
        if stage.exists() and not (stage / JOURNAL).is_file():
            with contextlib.suppress(OSError):
                discard(stage)


def _walk(folder: Path) -> list[str]:
    out = []
    for root, _dirs, files in os.walk(folder):
        base = Path(root).relative_to(folder)
        out.extend((base / name).as_posix() for name in files)
    return sorted(out)


def _apply(stage: Path, out: Path) -> list[str]:
    """Move the stage's files into ``out`` and delete the journal's paths there; the paths
    written."""
    removed = json.loads((stage / JOURNAL).read_text(encoding="utf-8"))
    written = []
    for path in _walk(stage):
        if path in (STAGE_MARKER, JOURNAL, MARKER):
            continue
        source, target = stage / path, out / path
        if target.is_file() and not target.is_symlink() \
                and target.stat().st_size == source.stat().st_size \
                and target.read_bytes() == source.read_bytes():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(source, target)
        written.append(path)
    for path in removed:
        target = out / path
        if target.is_file() or target.is_symlink():
            target.unlink()
        folder = target.parent
        while folder != out and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    discard(stage)
    return written


def swap(stage: Path, out: Path) -> None:
    """Put the finished stage in place of ``out``; the previous site is removed after."""
    old = old_of(out)
    if old.exists() or old.is_symlink():
        if not _ours(old):
            raise _in_the_way(old, out)
        discard(old)
    if out.exists():
        os.replace(out, old)
    os.replace(stage, out)
    with contextlib.suppress(OSError):
        discard(old)


def _write_error(exc: OSError, out: Path) -> BuildError:
    return BuildError(f"cannot write the site: {exc.strerror or exc}", path=out,
                      fix="check free space and permissions; the previous site is unchanged")
