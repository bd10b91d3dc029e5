"""``digest fetch``: days from the Hugging Face daily-papers API, added to the archive.

The API answers a JSON list for ``?date=YYYY-MM-DD``, at most ``limit`` (100) papers a page,
page ``p`` from 0; an empty day (weekends, holidays) answers ``[]``, and a day's list fills in
after the day. Which days a fetch asks for:

- ``--date D``: that day;
- ``--from A --to B``: every day of the range (the whole history since 2023-05 if you like),
  skipping days the fetch log (``content/fetched.json``) marks complete, so an interrupted run
  resumes where it stopped;
- neither: every day since the newest day of the archive, the last ``REFETCH_DAYS`` again
  (their lists may have grown), going back at most ``CATCH_UP_DAYS``.

A day is complete once it was fetched two days after it ended. Each day is added to the
archive as soon as it is fetched (papers are merged, never removed), under the archive's lock.

Requests: a User-Agent naming the project, a pace that keeps within the API's limit (500
requests in 5 minutes without a token; ``HF_TOKEN`` from the environment is sent and allows
a faster pace), a time limit for each answer however slowly it trickles in, retries with
exponential backoff on 429, 5xx and broken connections honouring Retry-After and
RateLimit-Reset, and one deadline for the whole fetch. A server that asks to wait past the
deadline, sends too much or pages without end gets a clear error, not a hang.
"""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
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
#: The longest wait between tries a server may ask for; longer, and the fetch gives up.
MAX_WAIT = 120.0
#: Seconds between requests: 500 in 5 minutes without a token; with one, twice as fast.
PACE, PACE_WITH_TOKEN = 0.6, 0.3
#: Seconds a whole fetch may take (``--deadline``).
DEADLINE = 1800.0
#: Days fetched again by a plain ``digest fetch``, and how far back it catches up.
REFETCH_DAYS, CATCH_UP_DAYS = 3, 14
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
        request = urllib.request.Request(url, headers=headers)
        for attempt in range(RETRIES + 1):
            self._wait(max(self._next - self.clock(), 0.0), url, "pacing")
            self._next = self.clock() + self.pace
            if self._left() <= 0:
                raise FetchError(f"the fetch took longer than its deadline of "
                                 f"{self.deadline:.0f} s", path=url,
                                 fix="try again later (or pass a longer --deadline); what was "
                                     "fetched is kept")
            try:
                self.requests += 1
                body = self._read(request)
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

    def _read(self, request: urllib.request.Request) -> bytes:
        """One answer's body, or _Retry for a passing problem."""
        timeout = max(min(TIMEOUT, self._left()), 0.1)
        started = self.clock()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                remaining = response.headers.get("RateLimit-Remaining") \
                    or response.headers.get("X-RateLimit-Remaining")
                chunks, size = [], 0
                while chunk := response.read1(65536):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > MAX_ANSWER:
                        raise FetchError(f"the API's answer is larger than {MAX_ANSWER} bytes",
                                         path=request.full_url,
                                         fix="check --api; the archive is unchanged")
                    if self.clock() - started > ANSWER_TIME:
                        raise _Retry(f"the answer took longer than {ANSWER_TIME:g} s")
                body = b"".join(chunks)
                length = response.headers.get("Content-Length")
                if length and length.isdigit() and size < int(length):
                    raise _Retry(f"the answer was cut short ({size} of {length} bytes)")
            if remaining is not None and remaining.strip() == "0":
                reset = _seconds(response.headers.get("RateLimit-Reset")
                                 or response.headers.get("X-RateLimit-Reset"))
                self._next = max(self._next, self.clock() + min(reset or 0.0, MAX_WAIT))
            return body
        except urllib.error.HTTPError as exc:
            if exc.code != 429 and exc.code < 500:
                raise FetchError(f"the API answered HTTP {exc.code} {exc.reason}",
                                 path=request.full_url, fix="check --api and --date") from exc
            wait = _seconds(exc.headers.get("Retry-After")) \
                or _seconds(exc.headers.get("RateLimit-Reset"))
            raise _Retry(f"HTTP {exc.code} {exc.reason}", wait) from exc
        except (TimeoutError, urllib.error.URLError, ConnectionError, http.client.HTTPException,
                OSError) as exc:
            reason = getattr(exc, "reason", None) or exc.__class__.__name__
            raise _Retry(f"cannot reach the API ({reason})") from exc


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
        items.extend(answer)
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
    except (OSError, ValueError) as exc:
        raise ParseError(f"the fetch log cannot be read ({exc})", path=path, line=1,
                         fix="delete it; the next fetch asks for the days again") from exc
    days = data.get("days") if isinstance(data, dict) else None
    return days if isinstance(days, dict) else {}


def _days(start: datetime.date, end: datetime.date) -> Iterator[datetime.date]:
    for n in range((end - start).days + 1):
        yield start + datetime.timedelta(days=n)


def plan(*, today: datetime.date, newest: datetime.date | None, log: dict[str, dict],
         date: datetime.date | None = None, start: datetime.date | None = None,
         end: datetime.date | None = None) -> list[datetime.date]:
    """The days to ask for (see the module's docstring). Pure."""
    if date is not None:
        return [date]
    if start is not None or end is not None:
        start, end = start or end, min(end or today, today)
        recent = today - datetime.timedelta(days=REFETCH_DAYS)
        return [d for d in _days(start, end)
                if d > recent or not log.get(d.isoformat(), {}).get("complete")]
    first = today - datetime.timedelta(days=CATCH_UP_DAYS)
    if newest is not None:
        first = max(first, newest - datetime.timedelta(days=REFETCH_DAYS - 1))
    else:
        first = today - datetime.timedelta(days=1)
    return list(_days(first, today))


def _write_log(content: Path, log: dict[str, dict]) -> None:
    text = json.dumps({"days": dict(sorted(log.items()))}, indent=1, sort_keys=True)
    replace_bytes(Path(content) / LOG, (text + "\n").encode("utf-8"))


def _progress(total: int) -> object | None:
    """A progress bar on a terminal for a fetch of several days; nothing in logs."""
    if total < 2 or not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="day", file=sys.stderr, leave=False)


def fetch_command(*, content: Path, date: datetime.date | None = None, api: str | None = None,
                  start: datetime.date | None = None, end: datetime.date | None = None,
                  config_file: Path | None = None, deadline: float = DEADLINE,
                  sleep: Callable[[float], None] | None = None,
                  today: datetime.date | None = None,
                  now: Callable[[], datetime.datetime] | None = None) -> list[str]:
    """Fetch the planned days and add each to the archive as it comes; the lines to print."""
    now = now or (lambda: datetime.datetime.now(datetime.timezone.utc))
    today = today or now().date()
    api = api or load_config(config_file).api_url
    content = Path(content)
    archive = archive_store.load(content, missing_ok=True)
    log = read_log(content)
    days = plan(today=today, newest=archive.digests[-1].date if archive.digests else None,
                log=log, date=date, start=start, end=end)
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
                    exc.fix = f"{exc.fix}; {len(lines)} earlier days are kept, run again to resume"
                raise
            if items:
                source = f"{api}?date={day.isoformat()}"
                digest = parse_api(json.dumps(items, ensure_ascii=False), source, day)
                digest = digest.with_date(day)
                report = add_digests(content, [digest], IngestReport())
                stored.update(p.key for p in digest.papers)
                new += report.new
                lines.append(report.lines[0] if report.written else
                             f"{day}: {len(digest.papers)} papers, all already in the archive")
            else:
                empty += 1
                lines.append(f"{day}: no papers (an empty day; weekends and holidays have "
                             "none); nothing written")
            with archive_store.locked(content):
                log = read_log(content)
                log[day.isoformat()] = {
                    "papers": len({p.get("paper", {}).get("id") or json.dumps(p, sort_keys=True)
                                   for p in items if isinstance(p, dict)}),
                    "fetched": now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "complete": now().date() >= day + datetime.timedelta(days=2)}
                _write_log(content, log)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if len(days) > 1 or not lines or stored:
        lines.append(f"Fetched {len(days)} day{'s' if len(days) != 1 else ''} "
                     f"({client.requests} requests): {len(stored)} papers, {new} new to the "
                     f"archive; {empty} empty day{'s' if empty != 1 else ''}.")
    return lines
