"""The GitHub workflows: valid against the workflow schema, least privilege, pinned actions,
and the publish job's shell steps, run in order against a local API server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, make_project, snapshot
from test_fetch import FIXTURE, ScriptedAPI

WORKFLOWS = ROOT / ".github" / "workflows"
#: What the last "Build the site" step printed (which kind of build it was).
LAST_BUILD_OUTPUT: list[str] = []


def load(name: str, folder: Path = WORKFLOWS) -> dict:
    # YAML 1.1 reads the key "on" as True.
    data = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))
    return data


def test_workflows_validate_against_the_github_workflow_schema():
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         *map(str, sorted(WORKFLOWS.glob("*.yml")))], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == ["ci.yml", "publish.yml"]


def test_publish_runs_daily_on_push_and_by_hand_with_least_privilege():
    flow = load("publish.yml")
    assert flow["on"]["schedule"][0]["cron"] == "17 6 * * *"
    assert flow["on"]["push"]["branches"] == ["main"]
    assert "date" in flow["on"]["workflow_dispatch"]["inputs"]
    assert flow["permissions"] == {}
    assert flow["concurrency"]["group"] == "publish"
    jobs = flow["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "write"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["report"]["permissions"] == {}
    uses = [s["uses"] for job in jobs.values() for s in job["steps"] if "uses" in s]
    assert {u.split("@")[0] for u in uses} >= {
        "actions/checkout", "actions/setup-python", "actions/configure-pages",
        "actions/upload-pages-artifact", "actions/deploy-pages"}
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
    setup = next(s for s in jobs["build"]["steps"] if s.get("uses", "").startswith(
        "actions/setup-python"))
    assert setup["with"]["cache"] == "pip"
    # A failed fetch still publishes, then fails the run.
    fetch = next(s for s in jobs["build"]["steps"] if s.get("id") == "fetch")
    assert fetch["continue-on-error"] is True
    assert jobs["report"]["if"] == ("always() && (needs.build.outputs.fetched == 'failure' || "
                                    "needs.build.outputs.pushed == 'failure')")
    push = next(s for s in jobs["build"]["steps"] if s.get("id") == "push")
    assert push["continue-on-error"] is True


def test_ci_workflow_runs_the_test_suite_on_push_and_pull_request():
    flow = load("ci.yml")
    assert set(flow["on"]) == {"push", "pull_request"}
    assert flow["permissions"] == {"contents": "read"}
    assert flow["jobs"]["test"]["steps"][-1]["run"] == "bash .ci/run"
    assert "pytest tests/test_engines.py" in flow["jobs"]["zensical"]["steps"][-1]["run"]


def _expand(value: str, context: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: context.get(m.group(1), ""), value)


def run_publish_steps(repo: Path, context: dict[str, str], *, workflow: Path | None = None,
                      env: dict[str, str] | None = None,
                      until: str | None = None) -> dict[str, int]:
    """Run the build job's shell steps of ``workflow`` (ours by default) in order, as the runner
    would, with ``env`` added; Install is skipped (the package is installed already), and no
    step after ``until`` runs (a runner that died there). Returns each step's exit code."""
    job = (load(workflow.name, workflow.parent) if workflow else load("publish.yml"))[
        "jobs"]["build"]
    env = {**os.environ, **(env or {}),
           **{k: _expand(str(v), context) for k, v in job["env"].items()}}
    codes = {}
    for step in job["steps"]:
        if "run" not in step or step["name"] == "Install":
            continue
        step_env = {**env, **{k: _expand(str(v), context)
                              for k, v in step.get("env", {}).items()}}
        result = subprocess.run(["bash", "-e", "-c", _expand(step["run"], context)], cwd=repo,
                                env=step_env, capture_output=True, text=True)
        codes[step["name"]] = result.returncode
        if step["name"] == "Build the site":
            LAST_BUILD_OUTPUT[:] = [result.stdout]
        if step["name"] == until:
            break
        if result.returncode and not step.get("continue-on-error"):
            pytest.fail(f"step {step['name']!r} failed:\n{result.stdout}\n{result.stderr}")
    return codes


@pytest.fixture
def repo(tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    folder = make_project(tmp_path / "repo")
    git = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "start"], check=True)
    subprocess.run([*git, "remote", "add", "origin", str(remote)], check=True)
    subprocess.run([*git, "push", "-q", "origin", "main"], check=True)
    return folder


def point_api(repo: Path, url: str) -> None:
    config = repo / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("api_url: https://huggingface.co/api/daily_papers",
                                   f"api_url: {url}"), encoding="utf-8")


#: The port of the last scripted API: a later run may use it again, as a real site's API
#: address stays the same between runs.
API_PORT: list[int] = [0]


def publish_against(repo: Path, answer: object, date: str = "2026-03-06",
                    requests: list | None = None, day: str | None = None,
                    same_api: bool = False, today: str | None = None) -> dict[str, int]:
    """Run the publish steps for ``date`` ("" as on a schedule) with the API answering
    ``answer`` (for ``day`` only, if given, and [] for other days), on the morning of
    ``today`` if given (DIGEST_TODAY); the API's requests are added to ``requests``."""
    api = ScriptedAPI(API_PORT[0] if same_api else 0)
    API_PORT[0] = api.server.server_address[1]
    try:
        api.answer((day, 0) if day else 0, (200, {}, answer))
        point_api(repo, api.url)
        context = {"inputs.date": date, "github.ref": "refs/heads/main",
                   "steps.pages.outputs.base_url": "https://example.org/digest"}
        return run_publish_steps(repo, context,
                                 env={"DIGEST_TODAY": today} if today else None)
    finally:
        if requests is not None:
            requests.extend(api.requests)
        api.server.shutdown()
        api.server.server_close()


def remote_log(tmp_path: Path) -> list[str]:
    return subprocess.run(["git", "-C", str(tmp_path / "remote.git"), "log", "--format=%s",
                           "main"], capture_output=True, text=True, check=True).stdout.splitlines()


def test_publish_steps_fetch_commit_push_and_build(repo, tmp_path):
    codes = publish_against(repo, FIXTURE)
    assert set(codes.values()) == {0}
    assert remote_log(tmp_path)[0] == "Archive the digests of 2026-03-06"
    assert (repo / "content" / "digests" / "2026-03-06.yaml").is_file()
    assert (repo / "site" / "index.html").is_file()
    assert "https://example.org/digest/papers/" in (repo / "site" / "feed.xml").read_text()


def test_a_failed_fetch_still_publishes_the_archive(repo):
    codes = publish_against(repo, b"<html>maintenance</html>")
    assert codes["Fetch the papers"] == 1
    assert [c for name, c in codes.items() if name != "Fetch the papers"] == [0, 0, 0]
    assert not (repo / "content" / "digests" / "2026-03-06.yaml").exists()
    assert (repo / "site" / "index.html").is_file()


def test_a_scheduled_run_catches_up_since_the_newest_day(repo, tmp_path):
    import datetime

    from generator import fetch
    newest = max(datetime.date.fromisoformat(p.stem) for p in
                 (ROOT / "content" / "digests").glob("*.yaml"))
    # A morning a fortnight after the sample's newest day (a fixed one: with the real date
    # the catch-up, paced as against the real API, would grow by a request a day).
    today = newest + datetime.timedelta(days=14)
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    requests: list = []
    codes = publish_against(repo, FIXTURE, date="", requests=requests, day=yesterday,
                            today=today.isoformat())
    assert set(codes.values()) == {0}
    # Every day since the newest archived one (from the last few archived days, whose lists
    # may have grown) up to today is asked for, each once: no gap.
    first = newest - datetime.timedelta(days=fetch.REFETCH_DAYS - 1)
    asked = [q["date"] for q, _ in requests]
    assert asked == [(first + datetime.timedelta(days=n)).isoformat()
                     for n in range((today - first).days + 1)]
    assert remote_log(tmp_path)[0] == f"Archive the digests of {yesterday}"
    assert (repo / "content" / "fetched.json").is_file()


def test_a_push_raced_by_another_commit_is_rebased_and_pushed(repo, tmp_path):
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(tmp_path / "remote.git"), str(other)], check=True)
    (other / "NOTES.md").write_text("a note\n", encoding="utf-8")
    git = ["git", "-C", str(other), "-c", "user.name=o", "-c", "user.email=o@example.org"]
    subprocess.run([*git, "add", "NOTES.md"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "A note"], check=True)
    subprocess.run([*git, "push", "-q", "origin", "main"], check=True)
    codes = publish_against(repo, FIXTURE)
    assert set(codes.values()) == {0}
    assert remote_log(tmp_path)[:2] == ["Archive the digests of 2026-03-06", "A note"]


def test_a_refused_push_still_publishes_what_was_fetched(repo, tmp_path):
    hook = tmp_path / "remote.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    codes = publish_against(repo, FIXTURE)
    assert codes["Push new archive files"] == 1
    assert [c for name, c in codes.items() if name != "Push new archive files"] == [0, 0, 0]
    assert remote_log(tmp_path) == ["start"]
    # The site holds the papers fetched, though the remote does not.
    assert "2026-03-06" in (repo / "site" / "digests" / "index.html").read_text()


def test_publish_restores_and_saves_what_a_rebuild_reuses():
    steps = load("publish.yml")["jobs"]["build"]["steps"]
    names = [s["name"] for s in steps]
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    # Restored before the build, keyed by what makes a build different.
    assert names.index(cache["name"]) < names.index("Build the site")
    assert cache["with"]["path"].split() == ["build", "site"]
    hashed = "hashFiles('mkdocs.yml', 'templates/**', 'pyproject.toml')"
    assert cache["with"]["key"] == f"site-${{{{ {hashed} }}}}-${{{{ github.run_id }}}}"
    assert cache["with"]["restore-keys"].strip() == f"site-${{{{ {hashed} }}}}-"


def test_a_fresh_clone_with_the_cache_restored_rebuilds_only_what_changed(repo, tmp_path):
    """As on GitHub: one run builds and its build/ and site/ are saved; the next run starts from
    a fresh clone elsewhere, gets them back, fetches a new day and builds incrementally, with
    the bytes of a full build."""
    assert set(publish_against(repo, FIXTURE).values()) == {0}
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(tmp_path / "remote.git"), str(clone)], check=True)
    (clone / "templates").unlink(missing_ok=True)
    (clone / "templates").symlink_to(ROOT / "templates")
    for folder in ("build", "site"):  # actions/cache keeps files and their times
        subprocess.run(["cp", "-a", str(repo / folder), str(clone / folder)], check=True)
    later = json.loads(json.dumps(FIXTURE))
    for i, item in enumerate(later):
        item["paper"]["id"] = f"2603.0900{i}"
        item["paper"]["title"] = f"A paper of the next day, number {i}"
    codes = publish_against(clone, later, date="2026-03-09", same_api=True)
    assert set(codes.values()) == {0}
    built = subprocess.run(["git", "-C", str(clone), "log", "-1", "--format=%s"],
                           capture_output=True, text=True).stdout
    assert built.startswith("Archive the digests of 2026-03-09")
    assert "changed pages rebuilt" in LAST_BUILD_OUTPUT[0]
    fresh = make_project(tmp_path / "fresh", clone / "content")
    shutil.copy(clone / "mkdocs.yml", fresh / "mkdocs.yml")
    subprocess.run([sys.executable, "-m", "generator", "build", "--strict", "--site-url",
                    "https://example.org/digest/"], cwd=fresh, check=True, capture_output=True)
    assert snapshot(clone / "site") == snapshot(fresh / "site")


def test_the_email_goes_out_after_deploying_only_where_its_secrets_are():
    job = load("publish.yml")["jobs"]["email"]
    assert job["needs"] == "deploy" and job["permissions"] == {"contents": "read"}
    assert set(job["env"]) >= {"DIGEST_SMTP_HOST", "DIGEST_SMTP_PASSWORD", "DIGEST_MAIL_TO"}
    assert all(v.startswith("${{ secrets.") for k, v in job["env"].items() if k != "SITE_URL")
    # Without the secrets every step is skipped: the job succeeds quietly.
    assert all(step.get("if") == "env.DIGEST_SMTP_HOST != ''" for step in job["steps"])
    assert "digest email --send" in job["steps"][-1]["run"]
