"""``digest fetch``: days from the Hugging Face daily-papers API, added to the archive.

The API answers a JSON list for ``?date=YYYY-MM-DD``, at most ``limit`` (100) papers a page,
page ``p`` from 0; an empty day (weekends, holidays) answers ``[]``, and a day's list fills in
after the day. Which days a fetch asks for:

- ``--date D``: that day;
- ``--from A --to B``: every day of the range (the whole history since 2023-05 if you like);
- neither: every day since the newest day of the archive, however long ago, starting
  ``REFETCH_DAYS`` before it (those lists may have grown), and every earlier day the fetch
  log does not mark complete yet (an empty weekday whose list fills in late).

Both skip the days the fetch log (``content/fetched.json``) marks complete, so an interrupted
run resumes where it stopped. A day is complete once it was fetched two days after it ended
(an empty one: a week after, as a list may fill in late). Each day is added to the archive as
soon as it is fetched (papers are merged, never removed), under the archive's lock.

Requests go only to http(s) addresses, follow at most ``MAX_REDIRECTS`` redirects, and the
token is never sent to another host than the one it was given for.

Requests: a User-Agent naming the project, a pace that keeps within the API's limit (500
requests in 5 minutes without a token; ``HF_TOKEN`` from the environment is sent and allows
a faster pace), a time limit for each answer however slowly it trickles in, retries with
exponential backoff on 429, 5xx and broken connections honouring Retry-After and
RateLimit-Reset, and one deadline for the whole fetch. A server that asks to wait past the
deadline, sends too much or pages without end gets a clear error, not a hang.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import email.utils
import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

from generator import __version__
from generator import archive as archive_store
from generator.commands import IngestReport, add_digests
from generator.config import load_config
from generator.errors import FetchError, ParseError
from generator.files import replace_bytes
from generator.ingest.api import parse_api

USER_AGENT = f"paper-digest/{__version__} (static archive of the daily papers digest)"
#: The API's largest page.
PAGE_SIZE = 100
#: A day never has this many pages; a server that goes on is stopped with an error.
MAX_PAGES = 50
#: Seconds: a socket that says nothing this long, and a whole answer however it trickles.
TIMEOUT, ANSWER_TIME = 30.0, 60.0
#: Largest answer read, in bytes (a full page is about 1 MB).
MAX_ANSWER = 32 * 1024 * 1024
RETRIES = 4
#: Redirects followed for one request (to http(s) addresses only).
MAX_REDIRECTS = 3
#: A day never holds this many papers (the real list has a few dozen to a few hundred).
MAX_DAY_PAPERS = 2000
#: The longest wait between tries a server may ask for; longer, and the fetch gives up.
MAX_WAIT = 120.0
#: Seconds between requests: 500 in 5 minutes without a token; with one, twice as fast.
PACE, PACE_WITH_TOKEN = 0.6, 0.3
#: Seconds a whole fetch may take (``--deadline``).
DEADLINE = 1800.0
#: The first day of the Hugging Face daily papers list.
FIRST_LIST = datetime.date(2023, 5, 4)
#: A plain ``digest fetch`` starts this many days before the newest archived day.
REFETCH_DAYS = 3
#: A day's list is complete (not asked for again) once fetched this many days after it; an
#: empty list, which may still fill in, a week after it.
COMPLETE_AFTER, EMPTY_COMPLETE_AFTER = 2, 7
#: The fetch log, in the content folder.
LOG = "fetched.json"


class _Retry(Exception):
    def __init__(self, problem: str, wait: float | None = None):
        super().__init__(problem)
        self.problem, self.wait = problem, wait


def _seconds(value: str | None) -> float | None:
    """Seconds from Retry-After (seconds or an HTTP date) or RateLimit-Reset (seconds)."""
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max((when - datetime.datetime.now(datetime.timezone.utc)).total_seconds(), 0.0)
    except (TypeError, ValueError, IndexError):
        return None


@dataclasses.dataclass
class Client:
    """GETs JSON from the API within its limits. ``sleep`` and ``clock`` are the time
    functions (tests pass their own)."""

    sleep: Callable[[float], None] | None = None
    clock: Callable[[], float] = time.monotonic
    deadline: float = DEADLINE
    token: str | None = None
    requests: int = 0

    def __post_init__(self) -> None:
        self.sleep = self.sleep or time.sleep
        self._ends = self.clock() + self.deadline
        self._next = 0.0
        self.pace = PACE_WITH_TOKEN if self.token else PACE

    def _left(self) -> float:
        return self._ends - self.clock()

    def _wait(self, seconds: float, url: str, why: str) -> None:
        if seconds > MAX_WAIT or seconds > self._left():
            limit = f"more than the {MAX_WAIT:.0f} s a fetch waits" if seconds > MAX_WAIT \
                else f"past the fetch's deadline of {self.deadline:.0f} s"
            raise FetchError(f"{why}: the API asks to wait {seconds:.0f} s, {limit}", path=url,
                             fix="try again later; what was fetched is kept")
        if seconds > 0:
            self.sleep(seconds)

    def get_json(self, url: str) -> object:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in range(RETRIES + 1):
            self._wait(max(self._next - self.clock(), 0.0), url, "pacing")
            self._next = self.clock() + self.pace
            if self._left() <= 0:
                raise self._late(url)
            try:
                self.requests += 1
                body = self._read(url, headers)
                break
            except _Retry as retry:
                problem = retry.problem
                wait = retry.wait if retry.wait is not None else min(2.0 ** attempt, MAX_WAIT)
            if attempt == RETRIES:
                raise FetchError(f"{problem}, still after {RETRIES} retries", path=url,
                                 fix="try again later; the archive is unchanged")
            self._wait(wait, url, problem)
        try:
            return json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise FetchError("the API answered with something that is not JSON", path=url,
                             fix="check --api; the archive is unchanged") from exc

    def _read(self, url: str, headers: dict[str, str]) -> bytes:
        """One answer's body, following at most ``MAX_REDIRECTS`` redirects to http(s)
        addresses, or _Retry for a passing problem. The token goes only to the host it was
        given for."""
        origin = _origin(url)
        for _ in range(MAX_REDIRECTS + 1):
            if _origin(url) != origin:
                headers = {k: v for k, v in headers.items() if k != "Authorization"}
            status, reason, answer_headers, body = self._exchange(url, headers)
            if status in (301, 302, 303, 307, 308) and answer_headers.get("Location"):
                target = urllib.parse.urljoin(url, answer_headers["Location"].strip())
                if urllib.parse.urlsplit(target).scheme.lower() not in ("http", "https"):
                    raise FetchError(f"the API redirected to {_printable(target)[:200]}, "
                                     "which is not an http(s) address", path=url,
                                     fix="check --api; the archive is unchanged")
                url = target
                continue
            if status == 429 or status >= 500:
                wait = _seconds(answer_headers.get("Retry-After")) \
                    or _seconds(answer_headers.get("RateLimit-Reset"))
                raise _Retry(f"HTTP {status} {_printable(reason)[:100]}", wait)
            if status != 200:
                raise FetchError(f"the API answered HTTP {status} {_printable(reason)[:100]}",
                                 path=url, fix="check --api and --date")
            remaining = answer_headers.get("RateLimit-Remaining") \
                or answer_headers.get("X-RateLimit-Remaining")
            if remaining is not None and remaining.strip() == "0":
                reset = _seconds(answer_headers.get("RateLimit-Reset")
                                 or answer_headers.get("X-RateLimit-Reset"))
                self._next = max(self._next, self.clock() + min(reset or 0.0, MAX_WAIT))
            return body
        raise FetchError(f"the API redirected more than {MAX_REDIRECTS} times", path=url,
                         fix="check --api; the archive is unchanged")

    def _exchange(self, url: str, headers: dict[str, str]):
        """One request and its whole answer: (status, reason, headers, body). However slowly
        the server sends its status line, headers or body, the answer ends within
        ``ANSWER_TIME`` and the fetch's deadline: a watchdog closes the connection then."""
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("not an http(s) address", path=url, fix="check --api")
        budget = min(ANSWER_TIME, self._left())
        if budget <= 0:
            raise self._late(url)
        kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        try:
            connection = kind(parts.hostname, parts.port, timeout=max(min(TIMEOUT, budget), 0.1))
        except (ValueError, http.client.InvalidURL) as exc:
            raise FetchError(f"not a valid address ({exc})", path=url, fix="check --api") from exc
        late = threading.Event()

        def cut_off() -> None:
            late.set()
            sock = connection.sock
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(budget, cut_off)
        watchdog.daemon = True
        started = self.clock()
        watchdog.start()
        try:
            target = parts.path or "/"
            if parts.query:
                target += "?" + parts.query
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            chunks, size = [], 0
            while chunk := response.read1(65536):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_ANSWER:
                    raise FetchError(f"the API's answer is larger than {MAX_ANSWER} bytes",
                                     path=url, fix="check --api; the archive is unchanged")
                if late.is_set():
                    break
            if late.is_set() or self.clock() - started > budget:
                raise self._late(url) if budget < ANSWER_TIME else \
                    _Retry(f"the answer took longer than {ANSWER_TIME:g} s")
            body = b"".join(chunks)
            length = response.getheader("Content-Length")
            if length and length.strip().isdigit() and size < int(length) \
                    and response.status == 200:
                raise _Retry(f"the answer was cut short ({size} of {int(length)} bytes)")
            return response.status, response.reason, response.headers, body
        except (FetchError, _Retry):
            raise
        except (TimeoutError, ConnectionError, http.client.HTTPException, OSError,
                ValueError) as exc:
            if late.is_set():
                raise (self._late(url) if budget < ANSWER_TIME else _Retry(
                    f"the answer took longer than {ANSWER_TIME:g} s")) from exc
            reason = getattr(exc, "strerror", None) or exc.__class__.__name__
            raise _Retry(f"cannot reach the API ({reason})") from exc
        finally:
            watchdog.cancel()
            connection.close()

    def _late(self, url: str) -> FetchError:
        return FetchError(f"the fetch took longer than its deadline of {self.deadline:g} s",
                          path=url, fix="try again later (or pass a longer --deadline); what "
                                        "was fetched is kept")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _printable(text: object) -> str:
    """Server-sent text for a message: control characters shown as escapes."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256
                   else f"\\u{ord(c):04x}" for c in str(text))


def fetch_day(api: str, date: datetime.date, *, client: Client | None = None,
              page_size: int = PAGE_SIZE, sleep: Callable[[float], None] | None = None) -> list:
    """Every paper of one day: page after page until a short page."""
    client = client or Client(sleep=sleep)
    items: list = []
    for page in range(MAX_PAGES):
        query = urllib.parse.urlencode({"date": date.isoformat(), "limit": page_size, "p": page})
        url = f"{api}{'&' if '?' in api else '?'}{query}"
        answer = client.get_json(url)
        if not isinstance(answer, list):
            raise FetchError("the API did not answer with a list of papers", path=url,
                             fix="check --api; the archive is unchanged")
        if len(answer) > page_size:
            raise FetchError(f"the API sent {len(answer)} papers on a page of at most "
                             f"{page_size}", path=url,
                             fix="check --api; the archive is unchanged")
        items.extend(answer)
        if len(items) > MAX_DAY_PAPERS:
            raise FetchError(f"the API gave more than {MAX_DAY_PAPERS} papers for one day",
                             path=url, fix="check --api; a day has a few hundred papers at "
                                           "most, and the archive is unchanged")
        if len(answer) < page_size:
            return items
    raise FetchError(f"the API gave {MAX_PAGES} full pages for one day and would go on",
                     path=api, fix="check --api; a day has a few hundred papers at most")


# -- which days ---------------------------------------------------------------------------------

def read_log(content: Path) -> dict[str, dict]:
    """The fetch log: for each day fetched, how many papers and when."""
    path = Path(content) / LOG
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, RecursionError) as exc:
        raise ParseError(f"the fetch log cannot be read ({exc.__class__.__name__})", path=path,
                         line=1, fix="delete it; the next fetch asks for the days again") from exc
    days = data.get("days") if isinstance(data, dict) else None
    if not isinstance(days, dict):
        raise ParseError("the fetch log holds no 'days' object", path=path, line=1,
                         fix="delete it; the next fetch asks for the days again")
    for day, entry in days.items():
        if not isinstance(entry, dict) or not _is_day(day):
            raise ParseError(f"the entry {_printable(day)[:40]!r} is not a day with an object",
                             path=path, line=1, fix="delete the entry (or the file); the next "
                                                    "fetch asks for the day again")
    return days


def _is_day(text: str) -> bool:
    try:
        return datetime.date.fromisoformat(text).isoformat() == text
    except (TypeError, ValueError):
        return False


def _days(start: datetime.date, end: datetime.date) -> Iterator[datetime.date]:
    for n in range((end - start).days + 1):
        yield start + datetime.timedelta(days=n)


def complete(day: datetime.date, papers: int, fetched: datetime.date) -> bool:
    """Whether a day's list will not change any more: fetched two days after the day, or a
    week after it when it was empty (a list may fill in late)."""
    wait = COMPLETE_AFTER if papers else EMPTY_COMPLETE_AFTER
    return fetched >= day + datetime.timedelta(days=wait)


def plan(*, today: datetime.date, newest: datetime.date | None, log: dict[str, dict],
         date: datetime.date | None = None, start: datetime.date | None = None,
         end: datetime.date | None = None) -> list[datetime.date]:
    """The days to ask for (see the module's docstring). Pure."""
    if date is not None:
        return [date]

    def wanted(day: datetime.date) -> bool:
        return not log.get(day.isoformat(), {}).get("complete")

    if start is not None or end is not None:
        start, end = start or end, min(end or today, today)
        return [d for d in _days(start, end) if wanted(d)]
    # Every day since the newest archived one, however long ago: no day is skipped. An
    # earlier day whose list was not complete when last fetched (an empty weekday fills in
    # late) is asked for again until it is.
    first = newest - datetime.timedelta(days=REFETCH_DAYS - 1) if newest is not None \
        else today - datetime.timedelta(days=1)
    unsettled = {datetime.date.fromisoformat(d) for d in log if _is_day(d)} - \
        set(_days(first, today))
    return sorted(d for d in {*_days(first, today), *unsettled} if d <= today and wanted(d))


def _write_log(content: Path, log: dict[str, dict]) -> None:
    text = json.dumps({"days": dict(sorted(log.items()))}, indent=1, sort_keys=True)
    replace_bytes(Path(content) / LOG, (text + "\n").encode("utf-8"))


def _progress(total: int) -> object | None:
    """A progress bar on a terminal for a fetch of several days; nothing in logs."""
    if total < 2 or not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="day", file=sys.stderr, leave=False)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def check_days(*, today: datetime.date, date: datetime.date | None = None,
               start: datetime.date | None = None, end: datetime.date | None = None) -> None:
    """Refuse days the API cannot have: after today, or a range that ends before it starts."""
    for name, day in (("--date", date), ("--from", start)):
        if day is not None and day > today:
            raise FetchError(f"{name} {day} is after today ({today}): the API has no list "
                             "for it yet", fix="pass a day up to today")
        if day is not None and day < FIRST_LIST:
            raise FetchError(f"{name} {day} is before the first list ({FIRST_LIST})",
                             fix=f"pass a day from {FIRST_LIST} on")
    if start is not None and end is not None and start > end:
        raise FetchError(f"--from {start} is after --to {end}",
                         fix=f"swap them: --from {end} --to {start}")


def fetch_command(*, content: Path, date: datetime.date | None = None, api: str | None = None,
                  start: datetime.date | None = None, end: datetime.date | None = None,
                  config_file: Path | None = None, deadline: float = DEADLINE,
                  sleep: Callable[[float], None] | None = None,
                  today: datetime.date | None = None,
                  now: Callable[[], datetime.datetime] | None = None) -> list[str]:
    """Fetch the planned days and add each to the archive as it comes; the lines to print."""
    now = now or (lambda: datetime.datetime.now(datetime.timezone.utc))
    today = today or now().date()
    check_days(today=today, date=date, start=start, end=end)
    api = api or load_config(config_file).api_url
    content = Path(content)
    log = read_log(content)
    days = plan(today=today, newest=archive_store.newest_day(content), log=log, date=date,
                start=start, end=end)
    client = Client(sleep=sleep, deadline=deadline,
                    token=os.environ.get("HF_TOKEN") or None)
    lines: list[str] = []
    stored, new, empty = set(), 0, 0
    bar = _progress(len(days))
    try:
        for day in days:
            try:
                items = fetch_day(api, day, client=client)
            except FetchError as exc:
                if lines:
                    exc.fix = (f"{exc.fix}; {_plural(len(lines), 'earlier day')} "
                               f"{'is' if len(lines) == 1 else 'are'} kept, run again to resume")
                raise
            # Read whole before anything is written: a bad item is an error, not half a day.
            digest = parse_api(json.dumps(items, ensure_ascii=False),
                               f"{api}?date={day.isoformat()}", day).with_date(day) \
                if items else None
            if digest is not None and digest.papers:
                report = add_digests(content, [digest], IngestReport())
                stored.update(p.key for p in digest.papers)
                new += report.new
                lines.append(report.lines[0] if report.written else
                             f"{day}: {_plural(len(digest.papers), 'paper')}, all already in "
                             "the archive")
            else:
                empty += 1
                lines.append(f"{day}: no papers (an empty day; weekends and holidays have "
                             "none); nothing written")
            papers = len(digest.papers) if digest is not None else 0
            with archive_store.locked(content):
                log = read_log(content)
                log[day.isoformat()] = {
                    "papers": papers, "fetched": now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "complete": complete(day, papers, today)}
                _write_log(content, log)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if len(days) > 1 or not lines or stored:
        lines.append(f"Fetched {_plural(len(days), 'day')} "
                     f"({_plural(client.requests, 'request')}): "
                     f"{_plural(len(stored), 'paper')}, {new} new to the archive; "
                     f"{_plural(empty, 'empty day')}.")
    return lines
