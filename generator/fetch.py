"""``digest fetch``: one day from the Hugging Face daily-papers API, then ingest it.

The API answers a JSON list for ``?date=YYYY-MM-DD``, at most ``limit`` (100) papers a page,
page ``p`` from 0; an empty day (weekends, holidays) answers ``[]``. Requests have a timeout,
a User-Agent naming the project, and retries with exponential backoff on 429 and 5xx that honour
Retry-After. Every page is fetched and checked before the archive is touched.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from generator import __version__
from generator.commands import IngestReport, add_digests
from generator.config import load_config
from generator.errors import FetchError
from generator.ingest.api import parse_api

USER_AGENT = f"paper-digest/{__version__} (static archive of the daily papers digest)"
#: The API's largest page.
PAGE_SIZE = 100
#: A day never has this many pages; the bound stops a misbehaving server.
MAX_PAGES = 50
TIMEOUT = 30.0
RETRIES = 4
MAX_WAIT = 120.0


def _retry_after(value: str | None, attempt: int) -> float:
    """Seconds to wait: the server's Retry-After (seconds or an HTTP date), else 2^attempt."""
    if value:
        if value.strip().isdigit():
            return min(float(value), MAX_WAIT)
        try:
            when = email.utils.parsedate_to_datetime(value)
            seconds = (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
            return min(max(seconds, 0.0), MAX_WAIT)
        except (TypeError, ValueError):
            pass
    return min(2.0 ** attempt, MAX_WAIT)


def get_json(url: str, *, sleep: Callable[[float], None] | None = None,
             retries: int = RETRIES, timeout: float = TIMEOUT) -> object:
    """GET ``url`` and decode its JSON, retrying passing failures."""
    sleep = sleep or time.sleep
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT,
                                                   "Accept": "application/json"})
    for attempt in range(retries + 1):
        retry_in = None
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                body = response.read()
            break
        except urllib.error.HTTPError as exc:
            if exc.code != 429 and exc.code < 500:
                raise FetchError(f"the API answered HTTP {exc.code} {exc.reason}", path=url,
                                 fix="check --api and --date") from exc
            retry_in = _retry_after(exc.headers.get("Retry-After"), attempt)
            problem = f"HTTP {exc.code} {exc.reason}"
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            retry_in = min(2.0 ** attempt, MAX_WAIT)
            problem = f"cannot reach the API ({reason})"
        if attempt == retries:
            raise FetchError(f"{problem}, still after {retries} retries", path=url,
                             fix="try again later; the archive is unchanged")
        sleep(retry_in)
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FetchError("the API answered with something that is not JSON", path=url,
                         fix="check --api; the archive is unchanged") from exc


def fetch_day(api: str, date: datetime.date, *, page_size: int = PAGE_SIZE,
              sleep: Callable[[float], None] | None = None) -> list:
    """Every paper of one day: page after page until a short page."""
    items: list = []
    for page in range(MAX_PAGES):
        query = urllib.parse.urlencode({"date": date.isoformat(), "limit": page_size, "p": page})
        url = f"{api}{'&' if '?' in api else '?'}{query}"
        answer = get_json(url, sleep=sleep)
        if not isinstance(answer, list):
            raise FetchError("the API did not answer with a list of papers", path=url,
                             fix="check --api; the archive is unchanged")
        items.extend(answer)
        if len(answer) < page_size:
            break
    return items


def fetch_command(*, content: Path, date: datetime.date | None, api: str | None,
                  config_file: Path | None = None,
                  sleep: Callable[[float], None] | None = None) -> list[str]:
    """Fetch one day and add it to the archive; the lines to print."""
    day = date or datetime.datetime.now(datetime.timezone.utc).date()
    api = api or load_config(config_file).api_url
    items = fetch_day(api, day, sleep=sleep)
    if not items:
        return [f"{day}: no papers (an empty day; weekends and holidays have none); "
                "nothing written"]
    source = f"{api}?date={day.isoformat()}"
    digest = parse_api(json.dumps(items, indent=1, ensure_ascii=False), source, day)
    digest = digest.with_date(day)
    report = add_digests(Path(content), [digest], IngestReport())
    return [f"Fetched {len(items)} papers for {day}.", *report.lines]
