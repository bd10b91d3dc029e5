"""The built site folder (``--out``): which folder a build may write, and how a new site
replaces the old one whole.

A build never writes into the site it replaces. MkDocs and the search stage write into a
stage beside it (``.site.new`` for ``site``); only when everything is written is the stage
swapped in by two renames (``site`` -> ``.site.old``, ``.site.new`` -> ``site``), so a failed,
killed or disk-full build leaves the previous site whole. A rebuild that reuses pages starts
the stage as hard links to the previous site's files, and every write into the stage replaces
a file (write aside, then rename) instead of writing into it, so the previous site's files
are never changed through a shared link.

A folder is only ever emptied or replaced when it is new, empty, or holds :data:`MARKER`, the
file every build leaves in its site: ``--out`` pointing at the archive, the project or a folder
of someone's files is refused before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
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
            shutil.rmtree(old, ignore_errors=True)
    stage = stage_of(out)
    if stage.exists() or stage.is_symlink():
        if not _ours(stage):
            raise _in_the_way(stage, out)
        shutil.rmtree(stage, ignore_errors=True)


def _link_tree(source: Path, target: Path) -> None:
    """``target`` (made already) as a tree of hard links to the files of ``source`` (copies
    where the file system has no hard links)."""
    for folder, _dirs, files in os.walk(source):
        relative = Path(folder).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in files:
            src, dst = Path(folder) / name, target / relative / name
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)


@contextlib.contextmanager
def staged(out: Path, *, reuse: bool) -> Iterator[Path]:
    """A stage to build the new site in; swapped in for ``out`` when the block ends without
    an error, removed when it fails. With ``reuse`` the stage starts with the previous site's
    files (hard links), for a build that rewrites only changed pages."""
    out = Path(out)
    recover(out)
    stage = stage_of(out)
    try:
        stage.parent.mkdir(parents=True, exist_ok=True)
        stage.mkdir()
        (stage / STAGE_MARKER).write_bytes(b"")
        if reuse and out.is_dir():
            _link_tree(out, stage)
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        raise _write_error(exc, out) from exc
    try:
        yield stage
        replace_bytes(stage / MARKER, _MARKER_TEXT.encode())
        (stage / STAGE_MARKER).unlink()
        swap(stage, out)
    except OSError as exc:
        raise _write_error(exc, out) from exc
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def swap(stage: Path, out: Path) -> None:
    """Put the finished stage in place of ``out``; the previous site is removed after."""
    old = old_of(out)
    if old.exists() or old.is_symlink():
        if not _ours(old):
            raise _in_the_way(old, out)
        shutil.rmtree(old)
    if out.exists():
        os.replace(out, old)
    os.replace(stage, out)
    shutil.rmtree(old, ignore_errors=True)


def _write_error(exc: OSError, out: Path) -> BuildError:
    return BuildError(f"cannot write the site: {exc.strerror or exc}", path=out,
                      fix="check free space and permissions; the previous site is unchanged")
