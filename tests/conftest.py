"""Shared fixtures: a throwaway project folder, the built sample site, golden-file updates."""

from __future__ import annotations

import contextlib
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
    """Every file below ``folder`` with its bytes, for before/after comparisons. Lock files
    (empty, ignored by git, left by the operating system's locks) are not content."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def build_project(folder: Path, site_url: str, engine: str = "mkdocs", full: bool = False):
    """`digest build --strict` (``--full``) in a project folder, as a user would run it
    there."""
    import os

    from generator.build import build

    previous = Path.cwd()
    os.chdir(folder)
    try:
        return build(folder / "content", config_file=folder / "mkdocs.yml",
                     out=folder / "site", site_url=site_url, strict=True, engine=engine,
                     full=full)
    finally:
        os.chdir(previous)


@contextlib.contextmanager
def built_and_served(folder: Path, engine: str = "mkdocs"):
    """Build a project for the address it is then served at, on 127.0.0.1."""
    site = folder / "site"
    site.mkdir(exist_ok=True)
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        result = build_project(folder, url, engine)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield {"url": url, "site": site, "result": result, "project": folder}
        server.shutdown()
    finally:
        server.server_close()


@pytest.fixture(scope="session")
def served_sample(tmp_path_factory):
    """The sample site, built once with its site_url set to where it is served (127.0.0.1)."""
    with built_and_served(make_project(tmp_path_factory.mktemp("sample") / "project")) as site:
        yield site


LABELS = DATA / "labels"
#: Every labels file, in the order README's commands pass them to `digest tags --train`.
LABEL_FILES = ("seeds.jsonl", "api.jsonl", "recent.jsonl")


def all_labels() -> dict:
    from generator.evaluation import read_labels
    labels = {}
    for name in LABEL_FILES:
        labels.update(read_labels(LABELS / name))
    return labels


@pytest.fixture(scope="session")
def labelled(tmp_path_factory):
    """An archive of every labelled paper, with the project's taxonomy and topic model."""
    from generator import archive as archive_store
    from generator.commands import ingest_files
    from generator.tagging import load_taxonomy
    from generator.topicmodel import FILE

    content = tmp_path_factory.mktemp("labelled") / "content"
    # As README's commands make it: the sample, the thirteen API days, the 104 corpus days.
    ingest_files(sorted((ROOT / "content" / "digests").glob("*.yaml"))
                 + sorted((DATA / "api").glob("*.json"))
                 + sorted((DATA / "corpus").glob("*.json")), content=content)
    for name in ("taxonomy.yaml", FILE):
        shutil.copy(ROOT / "content" / name, content / name)
    taxonomy = load_taxonomy(content / "taxonomy.yaml")
    papers = archive_store.load(content).papers
    return {"content": content, "taxonomy": taxonomy, "papers": papers}


@pytest.fixture(scope="session")
def fitted(labelled):
    """The topic model fitted on the labelled papers as `digest tags --train` fits it, with
    its cross-validated figures and each paper's topics chosen by a model fitted without it."""
    from generator.tagging import Tagger
    from generator.topicmodel import fit

    labels = all_labels()
    taxonomy = labelled["taxonomy"]
    phrases = Tagger(taxonomy, use_model=False)
    papers = [p for p in labelled["papers"] if p.identity in labels]
    known = {t.id for t in taxonomy.tags}
    files = ", ".join(f"tests/data/labels/{name}" for name in LABEL_FILES)
    return fit(papers, [sorted(labels[p.identity].topics & known) for p in papers],
               lambda p: {taxonomy.tags[i].id: e for i, e in phrases.evidence(p).items()},
               about=f"fitted on {len(papers)} labelled papers ({files})")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The fault suite's figures (tests/test_faults.py), as README's reliability section
    quotes them: every run that these count passed its checks (no data lost, no process
    left, no traceback)."""
    import sys
    faults = sys.modules.get("test_faults")
    if faults is not None and faults.RESULTS:
        figures = ", ".join(f"{name} {n}" for name, n in sorted(faults.RESULTS.items()))
        terminalreporter.write_line(f"fault suite: {figures}")
        stops = sum(n for name, n in faults.RESULTS.items() if "stopped by" in name)
        if stops:
            lost = faults.LOSSES
            terminalreporter.write_line(
                f"fault suite, {stops} stops of fetch, ingest and build (SIGKILL, SIGTERM, "
                f"SIGINT): Data lost {lost['data lost']}, processes left "
                f"{lost['processes left']}, tracebacks {lost['tracebacks']}")
