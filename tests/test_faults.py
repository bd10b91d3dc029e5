"""Nothing lost, nothing hung: a mistyped --out, a failed or killed build, a full disk."""

from __future__ import annotations

import datetime
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DATA, ROOT, snapshot
from generator import archive as archive_store
from generator import build as build_module
from generator.cli import main
from generator.errors import ParseError
from generator.ingest import read_digest
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


@pytest.mark.parametrize("name", [".site.new", ".site.old"])
def test_folders_beside_the_site_that_a_build_did_not_make_are_never_removed(
        project, capsys, name):
    """A build uses .site.new and .site.old beside site/: folders of those names holding
    someone's files stop the build with one line, and nothing is removed."""
    assert main(["build", "--site-url", URL]) == 0
    capsys.readouterr()
    theirs = project / name
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine", encoding="utf-8")
    before = snapshot(project)
    code, _, err = run(capsys, "build", "--full", "--site-url", URL)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"{theirs.relative_to(project)}: {name} beside the site folder was "
                          "not made by digest build")
    assert snapshot(project) == before


# -- kills, parallel writers, a full disk -------------------------------------------------------

def living(group: int) -> list[int]:
    """Processes of a process group that still run (zombies waiting for a parent that will
    never reap them are not running)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def digest(*argv, cwd) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "generator", *argv], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, env={**os.environ, "CI": "true"})


def kill_at(process: subprocess.Popen, seconds: float) -> bool:
    """SIGKILL the process after ``seconds`` (if it still runs); True if it was killed."""
    return stop_at(process, seconds, "SIGKILL")


def nothing_left(group: int) -> None:
    deadline = time.monotonic() + 10
    while living(group) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert living(group) == [], "a process outlived the killed build"


pytestmark_linux = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@pytestmark_linux
def test_killed_builds_leave_no_process_and_the_next_build_equals_a_full_one(tmp_path):
    from conftest import make_project
    reference = make_project(tmp_path / "reference")
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "generator", "build", "--site-url", URL],
                   cwd=reference, check=True, capture_output=True)
    took = time.monotonic() - started
    expected = snapshot(reference / "site")
    project = make_project(tmp_path / "project")
    killed = 0
    # Kills from start-up to the end, whatever this machine's speed: while loading,
    # rendering, feeds and search run beside MkDocs, and while swapping.
    for seconds in (took * f for f in (0.15, 0.3, 0.45, 0.6, 0.75, 0.9)):
        build = digest("build", "--full", "--site-url", URL, cwd=project)
        killed += kill_at(build, seconds)
        nothing_left(build.pid)
        archive_store.load(project / "content")  # every archive file still reads
        again = subprocess.run([sys.executable, "-m", "generator", "build", "--site-url", URL],
                               cwd=project, capture_output=True, text=True)
        assert again.returncode == 0, again.stderr
        assert snapshot(project / "site") == expected, seconds
    assert killed >= 4
    RESULTS["build kills"] = killed


@pytestmark_linux
def test_killed_ingests_never_leave_a_broken_archive(tmp_path):
    """Thirteen API days at once, killed at moments from start-up to the last rename."""
    days = [str(p) for p in sorted((DATA / "api").glob("*.json"))]
    reference = tmp_path / "reference"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "generator", "ingest", *days, "--content",
                    str(reference)], check=True, capture_output=True)
    took = time.monotonic() - started
    killed = 0
    for n in range(12):
        content = tmp_path / f"content-{n}"
        ingest = digest("ingest", *days, "--content", str(content), cwd=tmp_path)
        killed += kill_at(ingest, took * (0.3 + 0.06 * n))
        nothing_left(ingest.pid)
        archive = archive_store.load(content, missing_ok=True)
        # All thirteen days are renamed into place after all are written: all or none.
        assert len(archive.digests) in (0, 13)
        # The next writer removes what the killed one left, and finishes the work.
        subprocess.run([sys.executable, "-m", "generator", "ingest", *days, "--content",
                        str(content)], check=True, capture_output=True)
        assert list((content / "digests").glob(".*")) == []
        assert snapshot(content / "digests") == snapshot(reference / "digests")
    assert killed >= 5
    RESULTS["ingest kills"] = killed


def test_two_writers_at_once_lose_nothing(tmp_path):
    """Two ingests of papers of one day at once: both are kept (the second waits)."""
    fixture = json.loads((DATA / "ingest" / "api_daily_papers.json").read_text())
    halves = []
    for n in range(2):
        items = json.loads(json.dumps(fixture))
        for i, item in enumerate(items):
            item["paper"]["id"] = f"2603.{n}{i:04d}"
            item["paper"]["title"] = f"Paper {n}-{i} on parallel writers"
        path = tmp_path / f"half-{n}.json"
        path.write_text(json.dumps(items), encoding="utf-8")
        halves.append(path)
    for run in range(5):
        content = tmp_path / f"content-{run}"
        writers = [digest("ingest", str(h), "--date", "2026-03-06", "--content", str(content),
                          cwd=tmp_path) for h in halves]
        assert [w.wait(timeout=60) for w in writers] == [0, 0]
        day = archive_store.load(content).digests[0]
        assert len(day.papers) == 6, run
    RESULTS["parallel runs"] = 5


@pytest.fixture
def small_disk(tmp_path):
    """A 96 MB file system of its own (tmpfs), where the machine lets us mount one."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(mount)],
                            capture_output=True)
    if result.returncode != 0:
        pytest.skip("cannot mount a tmpfs here; test_a_failed_build_leaves_the_previous_site_"
                    "whole simulates a full disk instead")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Fill the disk until ``leave`` bytes are free."""
    free = shutil.disk_usage(disk).free
    with open(disk / "filler", "ab") as out:
        out.write(b"\0" * max(free - leave, 0))


def test_a_full_disk_fails_cleanly_and_keeps_the_site_and_the_archive(small_disk):
    from conftest import make_project
    project = make_project(small_disk / "project")
    ok = subprocess.run([sys.executable, "-m", "generator", "build", "--site-url", URL],
                        cwd=project, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    site, archive = snapshot(project / "site"), snapshot(project / "content")
    site_size = sum(len(b) for b in site.values())
    fill(small_disk, site_size // 3)
    full = subprocess.run([sys.executable, "-m", "generator", "build", "--full", "--site-url",
                           URL], cwd=project, capture_output=True, text=True)
    assert full.returncode == 1 and "Traceback" not in full.stderr
    assert full.stderr.count("\n") == 1 and "No space left on device" in full.stderr
    assert snapshot(project / "site") == site and snapshot(project / "content") == archive
    assert not (project / ".site.new").exists()
    # An ingest on a full disk: one line, the archive as it was, no temporary file left.
    # (Without the build cache: opening it checkpoints its write-ahead log, which frees space.)
    shutil.rmtree(project / "build")
    fill(small_disk, 0)
    ingest = subprocess.run([sys.executable, "-m", "generator", "ingest",
                             str(DATA / "ingest" / "layout_b_with_date.txt"), "--date",
                             "2026-11-23"], cwd=project, capture_output=True, text=True)
    assert ingest.returncode == 1 and ingest.stderr.count("\n") == 1
    assert "No space left on device" in ingest.stderr
    assert snapshot(project / "content") == archive
    assert list((project / "content" / "digests").glob(".*")) == []


# -- a fuzz of every reader: linear time -----------------------------------------------------------

#: Fragments that made a step quadratic once: TeX quotes and accents, runs of punctuation after a
#: URL, brackets, or any text at all.
FRAGMENTS = (st.text(alphabet=st.sampled_from(list("`'\"\\{}_%$()[] \nabcAB.,:;!?-0123456789")),
                     min_size=1, max_size=12)
             | st.sampled_from(["https://x.org/a", "https://x.org/(", ".", ")", "``", "\\'e",
                                "http://a.b/c).", "\\c{"])
             | st.text(min_size=1, max_size=12))


def _within(seconds: int, read, what: str) -> None:
    """Run ``read``; fail if it takes more than ``seconds`` (a quadratic step on these sizes
    takes minutes to hours: 83 s for 1.6 MB of dots after a URL, once)."""
    def too_slow(signum, frame):
        raise AssertionError(f"{what} took more than {seconds} s: not linear")

    signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(seconds)
    try:
        read()
    except ParseError:
        pass
    finally:
        signal.alarm(0)
    RESULTS["fuzz inputs"] = RESULTS.get("fuzz inputs", 0) + 1


def _long(fragment: str, size: int) -> str:
    return (fragment * (size // len(fragment) + 1))[:size]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FRAGMENTS)
def test_reading_a_page_takes_linear_time(fragment):
    line = _long(fragment, 300_000)
    page = f"Mar 11\n\nA Title\n\n{line}\n".encode("utf-8", "surrogatepass")
    _within(10, lambda: read_digest(page, "long.txt", today=datetime.date(2026, 11, 23)),
            "reading a 300 KB line of a page")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FRAGMENTS)
def test_reading_an_api_day_takes_linear_time(fragment):
    text = _long(fragment, 300_000)
    answer = json.dumps([{"paper": {"id": "2603.00001", "title": text[:2000], "summary": text,
                                    "ai_keywords": [text[:100]] * 50}}]).encode()
    _within(10, lambda: read_digest(answer, "2026-03-06.json"), "reading a 300 KB API answer")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FRAGMENTS)
def test_reading_an_archive_day_takes_linear_time(fragment):
    import yaml
    text = _long(fragment, 300_000)
    day = yaml.safe_dump({"date": "2026-03-06", "papers": [{"title": text[:2000] or "t",
                                                            "abstract": text}]},
                         allow_unicode=True).encode("utf-8", "surrogatepass")
    _within(10, lambda: read_digest(day, "2026-03-06.yaml"), "reading a 300 KB archive day")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FRAGMENTS)
def test_finding_links_takes_linear_time(fragment):
    from generator.ingest.clean import find_links
    text = "see https://example.org/x" + _long(fragment, 1_600_000)
    _within(10, lambda: find_links(text), "finding the links of 1.6 MB")


def test_a_day_of_ten_thousand_papers_reads_in_linear_time():
    """Each item's line was counted from the start of the answer (142 s for 10,000 items)."""
    items = [{"paper": {"id": f"2603.{n:05d}", "title": f"Paper {n}", "summary": "An abstract."}}
             for n in range(10_000)]
    answer = json.dumps(items, indent=2).encode()
    _within(20, lambda: read_digest(answer, "2026-03-06.json"), "reading 10,000 API items")


#: Figures of this run, for the README's reliability section (printed at the end).
RESULTS: dict[str, int] = {}


# -- at scale: fifty-four stops of fetch, ingest and build, by three signals ----------------

SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGTERM": signal.SIGTERM, "SIGINT": signal.SIGINT}
#: What the stops found, summed over every stop (README quotes these; all must stay 0).
LOSSES = {"data lost": 0, "processes left": 0, "tracebacks": 0}
#: The end of what each stopped process that printed a traceback printed, for the failure.
PRINTED: list[str] = []


def stop_at(process: subprocess.Popen, seconds: float, how: str) -> bool:
    """Stop the process after ``seconds`` (if it still runs) with the signal ``how``: SIGINT
    to its whole process group, as a terminal's Ctrl+C does. True if it was stopped."""
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        pass
    if how == "SIGINT":
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, SIGNALS[how])
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return True


def tally(process: subprocess.Popen, lost: bool) -> None:
    """Count what a stopped process left: its helpers alive after 10 s, a traceback."""
    deadline = time.monotonic() + 10
    while living(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    LOSSES["processes left"] += len(living(process.pid))
    err = process.stderr.read().decode(errors="replace")
    if "Traceback" in err:
        LOSSES["tracebacks"] += 1
        PRINTED.append(f"{' '.join(map(str, process.args[2:4]))}: {err[-2000:]}")
    process.stderr.close()
    LOSSES["data lost"] += lost


@pytest.fixture
def losses():
    """What this test's stops found (LOSSES keeps the sum over the run, for the summary)."""
    before = dict(LOSSES)
    printed = len(PRINTED)
    yield lambda: ({name: LOSSES[name] - before[name] for name in LOSSES}, PRINTED[printed:])


def record_stops(what: str, stopped: int, at_least: int, losses) -> None:
    """Check that enough moments fell inside the runs and that no stop lost anything."""
    RESULTS[what] = stopped
    found, printed = losses()
    assert found == {"data lost": 0, "processes left": 0, "tracebacks": 0}, printed
    assert stopped >= at_least, f"only {stopped} of the moments fell inside the runs"


def holds(content: Path, before: dict[str, bytes]) -> bool:
    """Whether every archive file of ``before`` is there with its bytes (later days may have
    been added whole) and every file reads."""
    try:
        archive_store.load(content, missing_ok=True)
    except Exception:  # noqa: BLE001 - any failure to read is data lost
        return False
    now = snapshot(content / "digests") if (content / "digests").is_dir() else {}
    return all(now.get(name) == data for name, data in before.items())


CORPUS = sorted((DATA / "corpus").glob("*.json"))


def corpus_project(folder: Path, days: list[Path] = (), content: Path | None = None) -> Path:
    """A project whose archive is ``days`` of real API answers ingested (or a copy of
    ``content``), with the sample's topics."""
    from conftest import make_project
    if content is not None:
        return make_project(folder, content)
    project = make_project(folder, content=None)
    (project / "content").mkdir()
    for name in ("taxonomy.yaml", "topic-model.json"):
        shutil.copy(ROOT / "content" / name, project / "content" / name)
    subprocess.run([sys.executable, "-m", "generator", "ingest", *map(str, days),
                    "--content", str(project / "content")], check=True, capture_output=True)
    return project


@pytestmark_linux
@pytest.mark.parametrize("how", SIGNALS)
def test_stopped_ingests_of_the_real_corpus_lose_nothing(tmp_path, how, losses):
    """Half of the 104 real API days archived; the other half ingested and stopped at eight
    moments from start-up to the last rename; the next ingest finishes the work."""
    half = len(CORPUS) // 2
    base = tmp_path / "base"
    subprocess.run([sys.executable, "-m", "generator", "ingest", *map(str, CORPUS[:half]),
                    "--content", str(base)], check=True, capture_output=True)
    reference = tmp_path / "reference"
    shutil.copytree(base, reference)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "generator", "ingest", *map(str, CORPUS[half:]),
                    "--content", str(reference)], check=True, capture_output=True)
    took = time.monotonic() - started
    before = snapshot(base / "digests")
    stopped = 0
    for n in range(8):
        content = tmp_path / f"content-{n}"
        shutil.copytree(base, content)
        ingest = digest("ingest", *map(str, CORPUS[half:]), "--content", str(content),
                        cwd=tmp_path)
        stopped += stop_at(ingest, took * (0.1 + 0.1 * n), how)
        tally(ingest, lost=not holds(content, before))
        subprocess.run([sys.executable, "-m", "generator", "ingest", *map(str, CORPUS[half:]),
                        "--content", str(content)], check=True, capture_output=True)
        LOSSES["data lost"] += snapshot(content / "digests") != snapshot(reference / "digests")
    record_stops(f"ingests stopped by {how}", stopped, at_least=5, losses=losses)


@pytestmark_linux
@pytest.mark.parametrize("how", SIGNALS)
def test_stopped_fetches_of_the_real_corpus_lose_nothing(tmp_path, how, losses):
    """Eight days of real API answers fetched from a local API at the API's pace, stopped at
    four moments; the next fetch of the same days finishes the work and the archive equals an
    uninterrupted fetch's."""
    from test_fetch import ScriptedAPI
    api = ScriptedAPI()
    first = datetime.date(2024, 6, 3)
    days = [first + datetime.timedelta(days=n) for n in range(8)]
    for path, day in zip(CORPUS[:8], days, strict=True):
        api.script[(day.isoformat(), 0)] = [(200, {}, path.read_bytes())]
    fetch = ("fetch", "--api", api.url, "--from", days[0].isoformat(), "--to",
             days[-1].isoformat())
    reference = tmp_path / "reference"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "generator", *fetch, "--content", str(reference)],
                   check=True, capture_output=True, cwd=tmp_path)
    took = time.monotonic() - started
    stopped = 0
    try:
        for n in range(4):
            content = tmp_path / f"content-{n}"
            process = digest(*fetch, "--content", str(content), cwd=tmp_path)
            stopped += stop_at(process, took * (0.1 + 0.25 * n), how)
            tally(process, lost=not holds(content, {}))
            subprocess.run([sys.executable, "-m", "generator", *fetch, "--content",
                            str(content)], check=True, capture_output=True, cwd=tmp_path)
            LOSSES["data lost"] += snapshot(content / "digests") != \
                snapshot(reference / "digests")
    finally:
        api.server.shutdown()
    record_stops(f"fetches stopped by {how}", stopped, at_least=3, losses=losses)


@pytestmark_linux
@pytest.mark.parametrize("how", SIGNALS)
def test_stopped_builds_lose_nothing_and_the_next_equals_a_full_one(tmp_path, how, losses):
    """An archive of 24 real API days built, then built --full and stopped at six moments
    from start-up to the commit of the site; the next plain build equals a full one."""
    reference = corpus_project(tmp_path / "reference", CORPUS[:24])
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "generator", "build", "--site-url", URL],
                   cwd=reference, check=True, capture_output=True)
    took = time.monotonic() - started
    expected = snapshot(reference / "site")
    project = corpus_project(tmp_path / "project", content=reference / "content")
    before = snapshot(project / "content" / "digests")
    stopped = 0
    for fraction in (0.15, 0.3, 0.45, 0.6, 0.75, 0.9):
        build = digest("build", "--full", "--site-url", URL, cwd=project)
        stopped += stop_at(build, took * fraction, how)
        tally(build, lost=not holds(project / "content", before))
        again = subprocess.run([sys.executable, "-m", "generator", "build", "--site-url", URL],
                               cwd=project, capture_output=True, text=True)
        if again.returncode != 0:
            LOSSES["data lost"] += 1
            PRINTED.append(f"the next build: {again.stderr}")
            continue
        LOSSES["data lost"] += snapshot(project / "site") != expected
    record_stops(f"builds stopped by {how}", stopped, at_least=5, losses=losses)


@pytest.mark.parametrize("after", range(0, 12, 2))
def test_a_site_folder_removed_half_way_still_says_it_is_ours(tmp_path, monkeypatch, after):
    """A build stopped while removing its stage or the old site left a remainder without
    its marker (files go in any order), which the next build refused as somebody else's."""
    from generator import sitedir
    out = tmp_path / "site"
    out.mkdir()
    (out / MARKER).write_text("")
    stage = sitedir.stage_of(out)
    stage.mkdir()
    (stage / sitedir.STAGE_MARKER).write_text("")
    for n in range(10):
        (stage / f"dir{n % 3}").mkdir(exist_ok=True)
        (stage / f"dir{n % 3}" / f"page{n}.html").write_text("x")
    calls = 0
    unlink = os.unlink

    def stopped_unlink(path, *args, **kwargs):
        nonlocal calls
        calls += 1
        if calls > after:
            raise KeyboardInterrupt
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", stopped_unlink)
    with pytest.raises(KeyboardInterrupt):
        sitedir.discard(stage)
    monkeypatch.setattr(os, "unlink", unlink)
    assert (stage / sitedir.STAGE_MARKER).is_file()
    sitedir.recover(out)  # the next build
    assert not stage.exists()


def test_an_interrupt_python_wrapped_in_another_error_is_an_interruption(capsys, monkeypatch):
    """A Ctrl+C landing in a class body's __set_name__ while a module was imported reached
    the user as a RuntimeError traceback (a CI run's stopped ingest)."""
    from generator import cli

    def command(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise RuntimeError("Error calling __set_name__") from exc

    monkeypatch.setitem(cli.COMMANDS, "list", command)
    code, _out, err = run(capsys, "list")
    assert code == 130
    assert err == "interrupted; the archive is as it was\n"


def test_an_interrupt_inside_a_del_is_sent_again_not_lost(monkeypatch):
    """Ctrl+C landing while the garbage collector ran an object's __del__ was printed as
    "Exception ignored in ... KeyboardInterrupt" and the build carried on."""
    from generator import cli
    timers = []
    monkeypatch.setattr(cli.threading, "Timer",
                        lambda delay, func, args: type("T", (), {
                            "start": lambda self: timers.append((func, args))})())

    class Collected:
        def __del__(self):
            cli._stop(signal.SIGINT, sys._getframe())

    Collected()  # collected at once: its __del__ meets the signal
    assert timers == [(os.kill, (os.getpid(), signal.SIGINT))]
    with pytest.raises(KeyboardInterrupt):
        cli._stop(signal.SIGINT, sys._getframe())


@pytestmark_linux
@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT"])
def test_a_signal_after_the_command_is_done_ends_it_quietly(tmp_path, how):
    """A kill that landed once a build had finished, while Python waited for a thread at
    exit, printed "Exception ignored in: <module 'threading'> ... KeyboardInterrupt" (a CI
    run's stopped build)."""
    script = ("import sys, threading, time\n"
              "from generator.cli import run\n"
              "threading.Thread(target=time.sleep, args=(30,)).start()\n"
              "code = run(['init', sys.argv[1]])\n"
              "print('done', flush=True)\n"
              "sys.exit(code)\n")
    process = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "new")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=ROOT)
    while process.stdout.readline() != "done\n":  # the command is done; the thread lives on
        assert process.poll() is None, process.stderr.read()
    time.sleep(0.2)
    process.send_signal(SIGNALS[how])
    _out, err = process.communicate(timeout=20)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert process.returncode == 128 + SIGNALS[how]
