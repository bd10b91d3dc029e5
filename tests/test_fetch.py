"""`digest fetch` against a local HTTP server on 127.0.0.1 serving recorded API answers."""

from __future__ import annotations

import contextlib
import datetime
import http.server
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
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

    def __init__(self, port: int = 0, host: str = "127.0.0.1"):
        self.script: dict[int, list[tuple[int, dict, bytes]]] = {}
        self.requests: list[tuple[dict, str]] = []
        self.requests_headers: list[dict] = []
        #: If set, answers every request from its query instead of the script.
        self.responder: Callable[[dict], tuple[int, dict, bytes]] | None = None
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
                if api.responder is not None:
                    status, headers, body = api.responder(query)
                if status == "raw":  # the body is the whole answer, status line included
                    self.wfile.write(body)
                    return
                if status == "drip":  # the whole answer, status line too, a byte at a time
                    with contextlib.suppress(ConnectionError, OSError):
                        for byte in body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            threading.Event().wait(0.2)
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

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}/api/daily_papers"
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
        "Fetched 1 day (1 request): 3 papers, 0 new to the archive; 0 empty days."]
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
    assert lines[-1].startswith("Fetched 1 day (1 request): 2 papers,")


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
    # A new archive: yesterday and today.
    assert plan(today=TODAY, newest=None, log={}) == [d(2026, 3, 19), TODAY]


def test_a_plain_fetch_after_a_long_gap_asks_for_every_day_of_it():
    """Newest archived day 2026-08-21, today 2026-12-02: the 103 days between are all asked
    for (a bound of 14 days once skipped 88 of them without a word)."""
    d = datetime.date
    days = plan(today=d(2026, 12, 2), newest=d(2026, 8, 21), log={})
    assert days[0] == d(2026, 8, 19) and days[-1] == d(2026, 12, 2)
    assert len(days) == (d(2026, 12, 2) - d(2026, 8, 19)).days + 1
    # Days the log marks complete are not asked for again; the others are.
    log = {day.isoformat(): {"complete": True} for day in days[:50]}
    assert plan(today=d(2026, 12, 2), newest=d(2026, 8, 21), log=log) == days[50:]


def test_an_earlier_day_not_yet_complete_is_asked_for_again_until_it_is():
    """A weekday that answered [] (its list filled in days later) is asked for again, though
    the newest archived day has moved on; it was once left behind without a word (found by
    the unattended runs of test_unattended.py)."""
    d = datetime.date
    log = {"2026-03-10": {"papers": 0, "complete": False},
           "2026-03-11": {"papers": 12, "complete": True}}
    assert plan(today=TODAY, newest=d(2026, 3, 19), log=log) == [
        d(2026, 3, 10), d(2026, 3, 17), d(2026, 3, 18), d(2026, 3, 19), TODAY]
    log["2026-03-10"]["complete"] = True
    assert plan(today=TODAY, newest=d(2026, 3, 19), log=log)[0] == d(2026, 3, 17)


def test_a_range_skips_complete_days():
    d = datetime.date
    log = {"2026-03-01": {"complete": True}, "2026-03-02": {"complete": False},
           "2026-03-18": {"complete": True}}
    days = plan(today=TODAY, newest=None, log=log, start=d(2026, 3, 1), end=d(2026, 3, 30))
    assert days[0] == d(2026, 3, 2) and days[-1] == TODAY
    assert d(2026, 3, 18) not in days and d(2026, 3, 19) in days


def test_a_day_is_complete_two_days_after_and_an_empty_one_a_week_after():
    from generator.fetch import complete
    d = datetime.date
    assert not complete(d(2026, 3, 2), 20, d(2026, 3, 3))
    assert complete(d(2026, 3, 2), 20, d(2026, 3, 4))
    # An empty weekday may still fill in: asked for again until a week has passed.
    assert not complete(d(2026, 3, 2), 0, d(2026, 3, 8))
    assert complete(d(2026, 3, 2), 0, d(2026, 3, 9))


def test_an_interrupted_range_resumes_without_asking_again(api, project, capsys):
    api.answer(("2026-03-06", 0), (200, {}, FIXTURE))
    api.answer(("2026-03-07", 0), (500, {}, b""))
    first = dict(content=project / "content", api=api.url, start=DAY,
                 end=datetime.date(2026, 3, 8), today=TODAY, sleep=lambda s: None)
    with pytest.raises(FetchError) as error:
        fetch_command(**first)
    assert str(error.value).endswith("1 earlier day is kept, run again to resume")
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


# -- redirects, slow servers and oversized answers ----------------------------------------------

@pytest.fixture
def other_host():
    """A second server on another loopback address: another host as far as a client knows."""
    server = ScriptedAPI(host="127.0.0.2")
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_the_token_is_never_sent_to_another_host_after_a_redirect(api, other_host, project):
    api.answer(0, (302, {"Location": other_host.url + "?date=2026-03-06&limit=100&p=0"}, b""))
    other_host.answer(0, (200, {}, FIXTURE))
    items = fetch_day(api.url, DAY, client=Client(sleep=lambda s: None, token="secret"))
    assert len(items) == 3
    assert api.requests_headers[0]["Authorization"] == "Bearer secret"
    assert "Authorization" not in other_host.requests_headers[0]
    assert "secret" not in json.dumps(other_host.requests_headers)


def test_a_redirect_on_the_same_host_keeps_the_token(api, project):
    api.answer(0, (301, {"Location": "/api/daily_papers?date=2026-03-06&limit=100&p=1"}, b""))
    api.answer(1, (200, {}, FIXTURE))
    fetch_day(api.url, DAY, client=Client(sleep=lambda s: None, token="secret"))
    assert [h.get("Authorization") for h in api.requests_headers] == ["Bearer secret"] * 2


def test_redirects_elsewhere_than_http_are_refused_at_once(api, project, capsys):
    before = snapshot(project / "content")
    api.answer(0, (302, {"Location": "ftp://127.0.0.1/daily_papers"}, b""))
    err = fetch_error(api, capsys, "--date", "2026-03-06")
    assert "the API redirected to ftp://127.0.0.1/daily_papers, which is not an http(s) " \
        "address - check --api" in err
    assert len(api.requests) == 1
    assert snapshot(project / "content") == before


def test_a_redirect_loop_stops_after_three(api, project, capsys):
    api.answer(0, (302, {"Location": api.url + "?date=2026-03-06&limit=100&p=0"}, b""))
    err = fetch_error(api, capsys, "--date", "2026-03-06")
    assert "the API redirected more than 3 times" in err
    assert len(api.requests) == 4


def test_the_deadline_holds_while_the_status_line_and_headers_drip(api, project, capsys):
    """A server that sends its answer a byte every 0.2 s, status line included: each byte
    arrives well within the socket's time limit, and still the fetch ends at its deadline."""
    api.answer(0, ("drip", {}, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                b"X-Padding: " + b"x" * 500 + b"\r\n\r\n[]"))
    started = time.monotonic()
    err = fetch_error(api, capsys, "--date", "2026-03-06", "--deadline", "2")
    assert time.monotonic() - started < 15
    assert "the fetch took longer than its deadline of 2 s" in err


def test_the_deadline_holds_while_a_body_drips(api, project, capsys):
    api.answer(0, ("trickle", {}, json.dumps(FIXTURE).encode()))
    started = time.monotonic()
    err = fetch_error(api, capsys, "--date", "2026-03-06", "--deadline", "1")
    assert time.monotonic() - started < 15
    assert "the fetch took longer than its deadline of 1 s" in err
    assert "asks to wait" not in err


def test_a_page_longer_than_asked_for_is_refused(api, project, capsys):
    """A server that ignores limit=100 and sends 10,000 papers on a page."""
    before = snapshot(project / "content")
    many = [{"paper": {"id": f"2603.{n:05d}", "title": f"Paper {n}", "summary": "S."}}
            for n in range(10_000)]
    api.answer(0, (200, {}, many))
    err = fetch_error(api, capsys, "--date", "2026-03-06")
    assert "the API sent 10000 papers on a page of at most 100" in err
    assert snapshot(project / "content") == before


def test_a_day_holds_a_bounded_number_of_papers(api, project, monkeypatch):
    monkeypatch.setattr("generator.fetch.MAX_DAY_PAPERS", 3)
    api.answer(0, (200, {}, FIXTURE[:2]))
    api.answer(1, (200, {}, FIXTURE[:2]))
    with pytest.raises(FetchError) as error:
        fetch_day(api.url, DAY, page_size=2, sleep=lambda s: None)
    assert "the API gave more than 3 papers for one day" in str(error.value)


def test_an_item_whose_paper_is_null_is_read_from_its_own_fields(api, project, capsys):
    items = json.loads(json.dumps(FIXTURE))
    items[1]["paper"] = None
    api.answer(0, (200, {}, items))
    assert main(["fetch", "--date", "2026-03-06", "--api", api.url]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "3 papers" in captured.out
    assert json.loads((project / "content" / "fetched.json").read_text())["days"][
        "2026-03-06"]["papers"] == 3


def test_an_item_without_a_title_writes_nothing_and_logs_nothing(api, project, capsys):
    before = snapshot(project / "content")
    api.answer(0, (200, {}, [FIXTURE[0], {"paper": None}]))
    err = fetch_error(api, capsys, "--date", "2026-03-06")
    assert "item 2 has no title" in err
    assert snapshot(project / "content") == before


def test_a_reversed_range_is_an_error(api, project, capsys):
    err = fetch_error(api, capsys, "--from", "2026-08-21", "--to", "2026-08-01")
    assert err == ("--from 2026-08-21 is after --to 2026-08-01 - swap them: --from 2026-08-01 "
                   "--to 2026-08-21\n")
    assert api.requests == []


def test_a_day_after_today_is_an_error(api, project, capsys):
    err = fetch_error(api, capsys, "--date", "9999-12-31")
    assert err.startswith("--date 9999-12-31 is after today (")
    assert api.requests == []


def test_today_can_be_given_and_decides_which_days_are_asked_and_complete(api, project,
                                                                          capsys, monkeypatch):
    """--today (or DIGEST_TODAY) is the day taken as today: a run on a schedule, replayed."""
    api.answer(0, (200, {}, FIXTURE))
    monkeypatch.setenv("DIGEST_TODAY", "2026-05-03")  # the option wins over the variable
    assert main(["fetch", "--api", api.url, "--today", "2026-05-02"]) == 0
    capsys.readouterr()
    # The sample's newest day is 2026-04-29: from two days before it to the given today.
    assert [q["date"] for q, _ in api.requests] == [
        "2026-04-27", "2026-04-28", "2026-04-29", "2026-04-30", "2026-05-01", "2026-05-02"]
    log = json.loads((project / "content" / "fetched.json").read_text())["days"]
    assert log["2026-04-30"]["complete"] and not log["2026-05-01"]["complete"]
    api.requests.clear()
    assert main(["fetch", "--api", api.url, "--date", "2026-05-03"]) == 0
    assert [q["date"] for q, _ in api.requests] == ["2026-05-03"]
    capsys.readouterr()
    err = fetch_error(api, capsys, "--date", "2026-05-04")
    assert err.startswith("--date 2026-05-04 is after today (2026-05-03)")


def test_a_bad_digest_today_is_a_usage_error_of_one_line(api, project, capsys, monkeypatch):
    before = snapshot(project / "content")
    monkeypatch.setenv("DIGEST_TODAY", "2026-13-01")
    assert main(["fetch", "--api", api.url]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("digest fetch: DIGEST_TODAY: ") and err.count("\n") == 1
    assert "2026-13-01" in err
    assert api.requests == [] and snapshot(project / "content") == before


def test_a_fetch_log_entry_that_is_not_an_object_is_one_line(api, project, capsys):
    (project / "content" / "fetched.json").write_text('{"days": {"2026-03-06": 7}}')
    err = fetch_error(api, capsys, "--date", "2026-03-06")
    assert err == (f"{Path('content') / 'fetched.json'}:1: the entry '2026-03-06' is not a day "
                   "with an object - delete the entry (or the file); the next fetch asks for "
                   "the day again\n")
