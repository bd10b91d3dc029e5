"""`digest fetch` against a local HTTP server on 127.0.0.1 serving recorded API answers."""

from __future__ import annotations

import datetime
import http.server
import json
import threading
import urllib.parse

import pytest
import yaml

from conftest import DATA, snapshot
from generator import archive as archive_store
from generator.cli import main
from generator.errors import FetchError
from generator.fetch import USER_AGENT, fetch_command, fetch_day

FIXTURE = json.loads((DATA / "ingest" / "api_daily_papers.json").read_text(encoding="utf-8"))
DAY = datetime.date(2026, 3, 6)


class ScriptedAPI:
    """Answers each request with the next scripted (status, headers, body) for its page."""

    def __init__(self):
        self.script: dict[int, list[tuple[int, dict, bytes]]] = {}
        self.requests: list[tuple[dict, str]] = []
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                api.requests.append((query, self.headers.get("User-Agent")))
                queue = api.script.get(int(query.get("p", 0)), [])
                status, headers, body = queue.pop(0) if len(queue) > 1 else (
                    queue[0] if queue else (200, {}, b"[]"))
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/daily_papers"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, page: int, *responses) -> None:
        self.script[page] = [(s, h, b if isinstance(b, bytes) else json.dumps(b).encode())
                             for s, h, b in responses]


@pytest.fixture
def api():
    server = ScriptedAPI()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_a_normal_day_over_two_pages(api, project):
    api.answer(0, (200, {}, FIXTURE[:2]))
    api.answer(1, (200, {}, FIXTURE[2:]))
    items = fetch_day(api.url, DAY, page_size=2, sleep=lambda s: None)
    assert [i["paper"]["id"] for i in items] == ["2603.04511", "2603.04548", "2603.04585"]
    assert [q for q, _ in api.requests] == [
        {"date": "2026-03-06", "limit": "2", "p": "0"},
        {"date": "2026-03-06", "limit": "2", "p": "1"}]
    assert all(agent == USER_AGENT for _, agent in api.requests)


def test_fetch_command_ingests_the_day(api, project, capsys):
    api.answer(0, (200, {}, FIXTURE))
    code = main(["fetch", "--date", "2026-03-06", "--api", api.url])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines() == [
        "Fetched 3 papers for 2026-03-06.",
        "2026-03-06: 3 papers, 0 new to the archive -> content/digests/2026-03-06.yaml"]
    archive = archive_store.load(project / "content")
    assert archive.digests[1].date == DAY and len(archive.digests[1].papers) == 3
    # Already known from the page of 11 March by title: the same papers, now with more dates.
    assert len(archive.papers) == 323
    assert api.requests[0][0] == {"date": "2026-03-06", "limit": "100", "p": "0"}


def test_an_empty_day_writes_nothing_and_exits_0(api, project, capsys):
    before = snapshot(project / "content")
    api.answer(0, (200, {}, []))
    assert main(["fetch", "--date", "2026-03-07", "--api", api.url]) == 0
    assert capsys.readouterr().out == ("2026-03-07: no papers (an empty day; weekends and "
                                       "holidays have none); nothing written\n")
    assert snapshot(project / "content") == before


def test_429_then_success_honours_retry_after(api, project):
    waits = []
    api.answer(0, (429, {"Retry-After": "7"}, b"slow down"), (200, {}, FIXTURE))
    lines = fetch_command(content=project / "content", date=DAY, api=api.url,
                          sleep=waits.append)
    assert waits == [7.0]
    assert lines[0] == "Fetched 3 papers for 2026-03-06."


def test_500_after_retries_is_one_line_and_leaves_the_archive(api, project, capsys,
                                                              monkeypatch):
    monkeypatch.setattr("generator.fetch.time.sleep", lambda s: None)
    before = snapshot(project / "content")
    api.answer(0, (500, {}, b"oops"))
    code = main(["fetch", "--date", "2026-03-06", "--api", api.url])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (f"{api.url}?date=2026-03-06&limit=100&p=0: HTTP 500 Internal Server Error, "
                   "still after 4 retries - try again later; the archive is unchanged\n")
    assert len(api.requests) == 5
    assert snapshot(project / "content") == before


def test_backoff_grows_exponentially(api, project):
    waits = []
    api.answer(0, (503, {}, b""))
    with pytest.raises(FetchError):
        fetch_day(api.url, DAY, sleep=waits.append)
    assert waits == [1.0, 2.0, 4.0, 8.0]


def test_malformed_json_is_one_clear_error(api, project, capsys):
    before = snapshot(project / "content")
    api.answer(0, (200, {}, b"[{\"paper\": "))
    assert main(["fetch", "--date", "2026-03-06", "--api", api.url]) == 1
    assert capsys.readouterr().err.endswith(
        ": the API answered with something that is not JSON - check --api; the archive is"
        " unchanged\n")
    assert snapshot(project / "content") == before


def test_an_unreachable_api_is_one_clear_error(project, capsys, monkeypatch):
    monkeypatch.setattr("generator.fetch.time.sleep", lambda s: None)
    code = main(["fetch", "--date", "2026-03-06", "--api", "http://127.0.0.1:9/api"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "cannot reach the API" in err and "still after 4 retries" in err


def test_a_hostile_title_stays_text(api, project):
    hostile = json.loads(json.dumps(FIXTURE[:1]))
    hostile[0]["paper"]["title"] = "<script>window.__pwned=1</script> {{ 7*7 }}\u202e"
    hostile[0]["paper"]["githubRepo"] = "javascript:alert(1)"
    hostile[0]["paper"]["id"] = "2603.09999"
    api.answer(0, (200, {}, hostile))
    fetch_command(content=project / "content", date=DAY, api=api.url, sleep=lambda s: None)
    paper = next(p for p in archive_store.load(project / "content").papers
                 if p.key == "2603.09999")
    assert paper.title == "<script>window.__pwned=1</script> {{ 7*7 }}"
    assert paper.github_repo is None
    # Written by the YAML dumper: read back as plain YAML, the title is the same text.
    text = (project / "content" / "digests" / "2026-03-06.yaml").read_text(encoding="utf-8")
    first = yaml.safe_load(text)["papers"][0]
    assert first["title"] == "<script>window.__pwned=1</script> {{ 7*7 }}"
    assert "github_repo" not in first
