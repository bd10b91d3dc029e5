"""Forty-five days of the publish workflow left alone: a project made by `digest init`, its
workflow's steps run once a day on a fresh checkout (with the build cache kept, as
actions/cache does) against a local API that serves real days and misbehaves as servers do."""

from __future__ import annotations

import datetime
import json
import math
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, snapshot
from generator import archive as archive_store
from generator.fetch import read_log
from test_fetch import ScriptedAPI
from test_workflows import run_publish_steps

START = datetime.date(2026, 9, 7)  # a Monday; the first run fetches from the day before
RUNS = 45
SITE_URL = "https://you.example.org/digest/"


def day(n: int) -> datetime.date:
    return START + datetime.timedelta(days=n)


#: The misbehaviour, by run (days after START), a few quiet runs apart.
OUTAGE = range(8, 15)   # every request answers 500 for a week
STORM = 18              # every request answers 429 (Retry-After: 1) for a whole run
STORMY = 19             # every other request answers 429 first
GROWS = day(24)         # its list grows again on the last day it is fetched
LATE = day(30)          # a weekday that answers [] until four days after it
DIES = 37               # the runner dies while it pushes


class SimulatedAPI:
    """The daily-papers API over real days (the newest days of tests/data/corpus, one for
    each weekday of the stretch), as seen on the morning of ``today``."""

    def __init__(self) -> None:
        weekdays = [d for d in (day(n) for n in range(-1, RUNS)) if d.weekday() < 5]
        files = sorted((DATA / "corpus").glob("*.json"))[-len(weekdays):]
        assert len(files) == len(weekdays)
        self.lists = {d.isoformat(): json.loads(f.read_text(encoding="utf-8"))
                      for d, f in zip(weekdays, files, strict=True)}
        self.today = START
        self.served: set[str] = set()
        self.calls = 0
        self.server = ScriptedAPI()
        self.server.responder = self.respond
        self.url = self.server.url

    def list_of(self, date: datetime.date) -> list:
        full = self.lists.get(date.isoformat(), [])
        if date == LATE and self.today < LATE + datetime.timedelta(days=4):
            return []
        if date >= self.today:  # the morning's list is still filling in
            return full[:math.ceil(len(full) / 2)] if date == self.today else []
        if date == GROWS and self.today < GROWS + datetime.timedelta(days=2):
            return full[:math.ceil(len(full) * 0.7)]
        return full

    def respond(self, query: dict) -> tuple[int, dict, bytes]:
        self.calls += 1
        run = (self.today - START).days
        if run in OUTAGE:
            return 500, {}, b"Internal Server Error"
        if run == STORM or (run == STORMY and self.calls % 2):
            return 429, {"Retry-After": "1"}, b"slow down"
        date = datetime.date.fromisoformat(query["date"])
        limit, page = int(query.get("limit", 100)), int(query.get("p", 0))
        items = self.list_of(date)[page * limit:(page + 1) * limit]
        self.served.update(item["paper"]["id"] for item in items)
        return 200, {}, json.dumps(items).encode()

    def close(self) -> None:
        self.server.server.shutdown()
        self.server.server.server_close()


def digest_without_waits(folder: Path) -> Path:
    """A `digest` command that keeps no pace and sleeps through no wait (the pace and the
    waits are tested in test_fetch.py; here they would only cost minutes): a folder for PATH."""
    folder.mkdir()
    script = folder / "digest"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "from generator import fetch\n"
        "fetch.PACE = fetch.PACE_WITH_TOKEN = 0.0\n"
        "_post_init = fetch.Client.__post_init__\n"
        "def post_init(self):\n"
        "    _post_init(self)\n"
        "    self.sleep = lambda seconds: None\n"
        "fetch.Client.__post_init__ = post_init\n"
        "from generator.cli import main\n"
        "sys.exit(main())\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=t",
                           "-c", "user.email=t@example.org", *args],
                          check=True, capture_output=True, text=True).stdout


def fresh_checkout(runner: Path) -> None:
    """What a new runner has: the remote's main and nothing else, but build/ and site/
    (restored by actions/cache)."""
    git(runner, "fetch", "-q", "origin")
    git(runner, "checkout", "-q", "-B", "main", "origin/main")
    git(runner, "reset", "-q", "--hard", "origin/main")
    git(runner, "clean", "-q", "-fdx", "-e", "/build/", "-e", "/site/")


def die_while_pushing(runner: Path) -> None:
    """A pre-push hook that kills the step's shell, as a runner that vanishes mid-push."""
    hook = runner / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\nkill -KILL \"$(ps -o ppid= -p \"$PPID\" | tr -d ' ')\"\n"
                    "sleep 5\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)


@pytest.fixture
def api():
    server = SimulatedAPI()
    yield server
    server.close()


def test_forty_five_days_unattended_lose_no_paper_and_no_day(tmp_path, api, capsys):
    remote, runner = tmp_path / "remote.git", tmp_path / "runner"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    subprocess.run([sys.executable, "-m", "generator", "init", str(runner), "--name",
                    "Unattended", "--site-url", SITE_URL], check=True, capture_output=True)
    config = runner / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "https://huggingface.co/api/daily_papers", api.url), encoding="utf-8")
    git(runner, "init", "-q", "-b", "main")
    git(runner, "add", "-A")
    git(runner, "commit", "-q", "-m", "start")
    git(runner, "remote", "add", "origin", str(remote))
    git(runner, "push", "-q", "origin", "main")
    workflow = runner / ".github" / "workflows" / "publish.yml"
    env = {"PATH": f"{digest_without_waits(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}",
           "CI": "true"}
    context = {"inputs.date": "", "github.ref": "refs/heads/main",
               "steps.pages.outputs.base_url": SITE_URL}
    outcomes = {}
    for n in range(RUNS):
        api.today = day(n)
        fresh_checkout(runner)
        if n == DIES:
            die_while_pushing(runner)
        codes = run_publish_steps(runner, context, workflow=workflow,
                                  env={**env, "DIGEST_TODAY": api.today.isoformat()},
                                  until="Push new archive files" if n == DIES else None)
        (runner / ".git" / "hooks" / "pre-push").unlink(missing_ok=True)
        outcomes[n] = codes
    # The misbehaving days failed the fetch (and so the run, which the owner hears of); the
    # runner that died built nothing; every other run succeeded throughout.
    failed = {n for n, codes in outcomes.items() if codes["Fetch the papers"]}
    assert failed == {*OUTAGE, STORM}
    assert outcomes[DIES]["Push new archive files"] == -9
    assert "Build the site" not in outcomes[DIES]
    assert all(set(codes.values()) == {0} for n, codes in outcomes.items()
               if n not in failed and n != DIES)
    # The remote's archive: every paper the API served, each day's whole list (but the last
    # day's, still filling in), and every day of the stretch in the fetch log.
    final = tmp_path / "final"
    subprocess.run(["git", "clone", "-q", str(remote), str(final)], check=True)
    content = final / "content"
    archived = {d.date.isoformat(): [p.arxiv_id for p in d.papers]
                for d in archive_store.load(content).digests}
    assert api.served <= {i for ids in archived.values() for i in ids}
    last = day(RUNS - 1)
    api.today = last + datetime.timedelta(days=1)
    expected = {d: [item["paper"]["id"] for item in api.list_of(datetime.date.fromisoformat(d))]
                for d in api.lists if d < last.isoformat()}
    assert {d: ids for d, ids in archived.items() if d < last.isoformat()} == expected
    log = read_log(content)
    first = datetime.date.fromisoformat(min(log))
    assert first <= day(-1)
    assert sorted(log) == [(first + datetime.timedelta(days=n)).isoformat()
                           for n in range((last - first).days + 1)]
    assert log[LATE.isoformat()]["papers"] == len(api.lists[LATE.isoformat()])
    # The last run's incremental site (after 90 runs on a restored cache) is a full build's.
    shutil.copytree(runner / "site", tmp_path / "incremental")
    result = subprocess.run([sys.executable, "-m", "generator", "build", "--full", "--strict",
                             "--site-url", SITE_URL], cwd=final, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert snapshot(tmp_path / "incremental") == snapshot(final / "site")
    papers = sum(len(ids) for ids in archived.values())
    with capsys.disabled():
        print(f"\nunattended, {RUNS} daily runs: {len(archived)} days, {papers} papers "
              f"archived; {len(failed)} runs failed their fetch and were caught up; "
              f"{api.calls} requests")
