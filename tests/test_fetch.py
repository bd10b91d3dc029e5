"""`digest fetch` against a local HTTP server on 127.0.0.1 serving recorded API answers."""

from __future__ import annotations

import contextlib
import datetime
import http.server
import json
import threading
import urllib.parse
from unittest.mock import ANY

import pytest
import yaml

from conftest import DATA, snapshot
from generator import archive as archive_store
from generator.cli import main
from generator.errors import FetchError
from generator.fetch import USER_AGENT, Client, fetch_command, fetch_day, plan

FIXTURE = json.loads((DATA / "ingest" / "api_daily_papers.json").read_text(encoding="utf-8"))
DAY = datetime.date(2026, 3, 6)


class ScriptedAPI:
    """Answers each request with the next scripted (status, headers, body) for its page."""

    def __init__(self, port: int = 0):
        self.script: dict[int, list[tuple[int, dict, bytes]]] = {}
        self.requests: list[tuple[dict, str]] = []
        self.requests_headers: list[dict] = []
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                api.requests.append((query, self.headers.get("User-Agent")))
                api.requests_headers.append(dict(self.headers))
                queue = api.script.get((query.get("date"), int(query.get("p", 0)))) or \
                    api.script.get(int(query.get("p", 0)), [])
                status, headers, body = queue.pop(0) if len(queue) > 1 else (
                    queue[0] if queue else (200, {}, b"[]"))
                if status == "raw":  # the body is the whole answer, status line included
                    self.wfile.write(body)
                    return
                if status == "trickle":
                    self.send_response(200)
                    self.end_headers()
                    with contextlib.suppress(ConnectionError):  # the client gave up
                        for byte in body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            threading.Event().wait(0.05)  # not time.sleep: tests replace it
                    return
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/daily_papers"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, page, *responses) -> None:
        """Answers for page ``page`` of any day, or for ``(date, page)``."""
        self.script[page] = [(s, h, b if isinstance(b, bytes) else json.dumps(b).encode())
                             for s, h, b in responses]


@pytest.fixture(autouse=True)
def no_pace(monkeypatch):
    """The API's pace (a request every 0.6 s) is tested on its own; elsewhere it would only
    make the tests slow."""
    monkeypatch.setattr("generator.fetch.PACE", 0.0)


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
        "2026-03-06: 3 papers, 0 new to the archive -> content/digests/2026-03-06.yaml",
        "Fetched 1 day (1 requests): 3 papers, 0 new to the archive; 0 empty days."]
    archive = archive_store.load(project / "content")
    assert archive.digests[1].date == DAY and len(archive.digests[1].papers) == 3
    # Already known from the page of 11 March by title: the same papers, now with more dates.
    assert len(archive.papers) == 323
    assert api.requests[0][0] == {"date": "2026-03-06", "limit": "100", "p": "0"}


def test_an_empty_day_writes_nothing_and_exits_0(api, project, capsys):
    before = snapshot(project / "content" / "digests")
    api.answer(0, (200, {}, []))
    assert main(["fetch", "--date", "2026-03-07", "--api", api.url]) == 0
    assert capsys.readouterr().out == ("2026-03-07: no papers (an empty day; weekends and "
                                       "holidays have none); nothing written\n")
    assert snapshot(project / "content" / "digests") == before
    # The log says the day was asked for, so a range that covers it does not ask again.
    assert json.loads((project / "content" / "fetched.json").read_text())["days"] == {
        "2026-03-07": {"papers": 0, "fetched": ANY, "complete": True}}


def test_429_then_success_honours_retry_after(api, project):
    waits = []
    api.answer(0, (429, {"Retry-After": "7"}, b"slow down"), (200, {}, FIXTURE))
    lines = fetch_command(content=project / "content", date=DAY, api=api.url,
                          sleep=waits.append)
    assert 7.0 in waits
    assert lines[-1] == "Fetched 1 day (2 requests): 3 papers, 0 new to the archive; 0 empty " \
        "days."


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
    # Between the tries: the pace of requests, then the backoff.
    assert [w for w in waits if w > 0.7] == [1.0, 2.0, 4.0, 8.0]


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


# -- hostile and broken servers -------------------------------------------------------------

def fetch_error(api, capsys, *argv) -> str:
    code = main(["fetch", "--api", api.url, *argv])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_an_answer_cut_short_is_retried_then_one_line(api, project, capsys, monkeypatch):
    monkeypatch.setattr("generator.fetch.time.sleep", lambda s: None)
    before = snapshot(project / "content")
    api.answer(0, ("raw", {}, b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n[{\"paper\""))
    err = fetch_error(api, capsys, "--date", "2026-03-06")
    assert "the answer was cut short (9 of 5000 bytes), still after 4 retries" in err
    assert snapshot(project / "content") == before


def test_a_bad_status_line_is_one_line(api, project, capsys, monkeypatch):
    monkeypatch.setattr("generator.fetch.time.sleep", lambda s: None)
    api.answer(0, ("raw", {}, b"SPDY/9 banana\r\n\r\n[]"))
    assert "cannot reach the API (BadStatusLine)" in fetch_error(api, capsys, "--date",
                                                                  "2026-03-06")


def test_a_trickling_answer_is_cut_off(api, project, capsys, monkeypatch):
    monkeypatch.setattr("generator.fetch.time.sleep", lambda s: None)
    monkeypatch.setattr("generator.fetch.ANSWER_TIME", 0.2)
    monkeypatch.setattr("generator.fetch.RETRIES", 1)
    api.answer(0, ("trickle", {}, json.dumps(FIXTURE).encode()))
    err = fetch_error(api, capsys, "--date", "2026-03-06")
    assert "the answer took longer than 0.2 s, still after 1 retries" in err


def test_a_server_asking_to_wait_too_long_is_left_at_once(api, project, capsys):
    waits = []
    api.answer(0, (429, {"Retry-After": "100000"}, b""))
    with pytest.raises(FetchError) as error:
        fetch_command(content=project / "content", date=DAY, api=api.url, sleep=waits.append)
    assert "the API asks to wait 100000 s, more than the 120 s a fetch waits" in str(error.value)
    assert [w for w in waits if w > 1] == [] and len(api.requests) == 1


def test_the_whole_fetch_has_a_deadline(api, project, capsys):
    api.answer(0, (503, {"Retry-After": "30"}, b""))
    with pytest.raises(FetchError) as error:
        fetch_command(content=project / "content", date=DAY, api=api.url, deadline=10,
                      sleep=lambda s: None)
    assert "the API asks to wait 30 s, past the fetch's deadline of 10 s" in str(error.value)


def test_endless_pages_are_an_error_not_a_silent_cut(api, project, capsys, monkeypatch):
    monkeypatch.setattr("generator.fetch.MAX_PAGES", 3)
    for page in range(5):
        api.answer(page, (200, {}, FIXTURE[:2]))
    before = snapshot(project / "content")
    with pytest.raises(FetchError) as error:
        fetch_day(api.url, DAY, page_size=2, sleep=lambda s: None)
    assert "gave 3 full pages for one day" in str(error.value)
    assert snapshot(project / "content") == before


def test_counts_are_of_distinct_papers(api, project):
    # A server that sends the same papers on every page: 4 answers, 2 papers.
    api.answer(0, (200, {}, FIXTURE[:2] * 2))
    api.answer(1, (200, {}, FIXTURE[:2]))
    lines = fetch_command(content=project / "content", date=DAY, api=api.url,
                          sleep=lambda s: None)
    assert lines[-1].startswith("Fetched 1 day (1 requests): 2 papers,")


def test_the_pace_keeps_within_the_limit_and_a_token_is_sent(api, project, monkeypatch):
    monkeypatch.setattr("generator.fetch.PACE", 0.6)
    monkeypatch.setenv("HF_TOKEN", "secret-token")
    waits = []
    api.answer(0, (200, {}, FIXTURE[:2]))
    api.answer(1, (200, {"RateLimit-Remaining": "0", "RateLimit-Reset": "9"}, FIXTURE[:2]))
    api.answer(2, (200, {}, []))
    fetch_day(api.url, DAY, page_size=2, client=Client(sleep=waits.append, token="t0k"))
    assert api.requests_headers[0]["Authorization"] == "Bearer t0k"
    # 500 requests in 5 minutes is one every 0.6 s; the token halves it. After an answer that
    # says no request is left, the next waits for the reset.
    assert all(w <= 0.3 for w in waits[:1]) and 8.5 < max(waits) <= 9


# -- which days -------------------------------------------------------------------------------

TODAY = datetime.date(2026, 3, 20)


def test_a_plain_fetch_catches_up_and_fetches_the_last_days_again():
    d = datetime.date
    assert plan(today=TODAY, newest=d(2026, 3, 16), log={}) == [
        d(2026, 3, 14), d(2026, 3, 15), d(2026, 3, 16), d(2026, 3, 17), d(2026, 3, 18),
        d(2026, 3, 19), d(2026, 3, 20)]
    # A long gap: at most 14 days back.
    assert plan(today=TODAY, newest=d(2025, 1, 1), log={})[0] == d(2026, 3, 6)
    # A new archive: yesterday and today.
    assert plan(today=TODAY, newest=None, log={}) == [d(2026, 3, 19), TODAY]


def test_a_range_skips_complete_days_but_not_recent_ones():
    d = datetime.date
    log = {"2026-03-01": {"complete": True}, "2026-03-02": {"complete": False},
           "2026-03-18": {"complete": True}}
    days = plan(today=TODAY, newest=None, log=log, start=d(2026, 3, 1), end=d(2026, 3, 30))
    assert days[0] == d(2026, 3, 2) and days[-1] == TODAY
    assert d(2026, 3, 18) in days  # within the last 3 days: its list may still grow


def test_an_interrupted_range_resumes_without_asking_again(api, project, capsys):
    api.answer(("2026-03-06", 0), (200, {}, FIXTURE))
    api.answer(("2026-03-07", 0), (500, {}, b""))
    first = dict(content=project / "content", api=api.url, start=DAY,
                 end=datetime.date(2026, 3, 8), today=TODAY, sleep=lambda s: None)
    with pytest.raises(FetchError) as error:
        fetch_command(**first)
    assert str(error.value).endswith("1 earlier days are kept, run again to resume")
    asked = len(api.requests)
    api.answer(("2026-03-07", 0), (200, {}, []))
    lines = fetch_command(**first)
    assert [q["date"] for q, _ in api.requests[asked:]] == ["2026-03-07", "2026-03-08"]
    assert lines[-1] == ("Fetched 2 days (2 requests): 0 papers, 0 new to the archive; 2 empty "
                         "days.")


def test_a_later_fetch_adds_papers_and_never_removes_any(api, project):
    api.answer(0, (200, {}, FIXTURE[:1]))
    fetch_command(content=project / "content", date=DAY, api=api.url, sleep=lambda s: None)
    api.answer(0, (200, {}, FIXTURE[1:]))  # the list changed: two more, the first gone
    fetch_command(content=project / "content", date=DAY, api=api.url, sleep=lambda s: None)
    day = next(d for d in archive_store.load(project / "content").digests if d.date == DAY)
    assert len(day.papers) == 3
