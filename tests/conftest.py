"""Shared fixtures: a throwaway project folder, the built sample site, golden-file updates."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files and expected parser output from the current "
                          "code; review the diff like code")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


def make_project(folder: Path, content: Path | None = ROOT / "content") -> Path:
    """A project folder like a user's: mkdocs.yml, the templates, and a copy of an archive."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mkdocs.yml", folder / "mkdocs.yml")
    (folder / "templates").symlink_to(ROOT / "templates")
    if content is not None:
        shutil.copytree(content, folder / "content")
    return folder


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project folder with a copy of the sample archive, as the working directory."""
    folder = make_project(tmp_path / "project")
    monkeypatch.chdir(folder)
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` with its bytes, for before/after comparisons."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def served_sample(tmp_path_factory):
    """The sample site, built once with its site_url set to where it is served (127.0.0.1)."""
    import os

    from generator.build import build

    folder = make_project(tmp_path_factory.mktemp("sample") / "project")
    site = folder / "site"
    site.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    previous = Path.cwd()
    os.chdir(folder)
    try:
        result = build(folder / "content", config_file=folder / "mkdocs.yml", out=site,
                       site_url=url, strict=True)
    finally:
        os.chdir(previous)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": url, "site": site, "result": result, "project": folder}
    server.shutdown()
    server.server_close()
