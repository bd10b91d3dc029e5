"""Nothing lost, nothing hung: a mistyped --out, a failed or killed build, a full disk."""

from __future__ import annotations

import errno
import os

import pytest

from conftest import snapshot
from generator import build as build_module
from generator.cli import main
from generator.sitedir import MARKER

URL = "http://127.0.0.1:1/"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("out, says", [
    ("content", "content: the site folder is the archive"),
    ("content/digests", "content/digests: the site folder is inside the archive"),
    (".", ".: the site folder holds the archive"),
    ("build", "build: the site folder holds docs_dir"),
    ("build/docs/papers", "build/docs/papers: the site folder is inside docs_dir"),
    ("templates", "templates: the site folder is the templates"),
    ("thesis", "thesis: the folder holds files that digest build did not write"),
])
def test_out_never_replaces_the_archive_or_someones_files(project, capsys, out, says):
    (project / "thesis").mkdir()
    (project / "thesis" / "chapter1.tex").write_text("precious", encoding="utf-8")
    assert main(["build", "--site-url", URL]) == 0  # build/ exists, as after any build
    capsys.readouterr()
    before = snapshot(project)
    code, stdout, err = run(capsys, "build", "--site-url", URL, "--out", out)
    assert code == 1 and stdout == ""
    assert err.startswith(says) and err.count("\n") == 1 and " - pass --out " in err
    assert snapshot(project) == before


def test_out_may_be_new_empty_or_a_site_it_built(project, capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (tmp_path / "new" / "site", empty, empty):
        assert main(["build", "--site-url", URL, "--out", str(out)]) == 0
        assert (out / "index.html").is_file() and (out / MARKER).is_file()
    # Beside the sites: only their locks (see .gitignore), no stage or old site left.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".empty.lock", "empty", "new",
                                                         "project"]


def test_a_failed_build_leaves_the_previous_site_whole(project, capsys, monkeypatch):
    assert main(["build", "--site-url", URL]) == 0
    before = snapshot(project / "site")
    (project / "content" / "digests" / "2026-04-29.yaml").write_text(
        (project / "content" / "digests" / "2026-04-29.yaml").read_text(encoding="utf-8")
        .replace("Universal Source Separation", "Universal Source Separation, revised"),
        encoding="utf-8")
    real = build_module.run_mkdocs

    def disk_full(config, out, **kwargs):
        real(config, out, **kwargs)  # every page written into the stage, then:
        (out / "index.html").unlink()  # a page cut short, as a full disk leaves it
        (out / "index.html").write_bytes(b"<html>cut")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(build_module, "run_mkdocs", disk_full)
    code, _, err = run(capsys, "build", "--site-url", URL)
    assert code == 1
    assert err == ("site: cannot write the site: No space left on device - check free space "
                   "and permissions; the previous site is unchanged\n")
    assert snapshot(project / "site") == before
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".")) == [".site.lock"]
    monkeypatch.setattr(build_module, "run_mkdocs", real)
    assert main(["build", "--site-url", URL]) == 0
    assert snapshot(project / "site") != before
