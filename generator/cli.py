"""The ``digest`` command: argument parsing and user messages only; no logic.

Every failure the user can fix arrives as a DigestError and leaves as one line per problem,
``FILE:LINE: what is wrong - how to fix it``, with exit code 1 and no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from generator import __version__
from generator.errors import DigestError

EPILOG = "Run 'digest COMMAND --help' for a command's options."


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date; write it as YYYY-MM-DD") from None


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port; pass a number from 1 to "
                                         "65535")
    return int(text)


class _Parser(argparse.ArgumentParser):
    """Command-line mistakes are one line (the command, the option, the fix) and exit 2,
    not the usage text."""

    def error(self, message: str):
        say(f"{self.prog}: {message} - see '{self.prog} --help'", err=True)
        raise SystemExit(2)


def terminal_text(text: object) -> str:
    """Text for the terminal: every character that is not printable (ESC, BEL, NUL, a line
    break inside a value) shown as an escape, so that nothing an archive or a server says can
    move the cursor, change the title or ring the bell."""
    text = str(text)
    if all(line.isprintable() for line in text.split("\n")):
        return text
    return "".join(c if c.isprintable() or c == "\n" else
                   (f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}")
                   for c in text)


def say(text: object = "", *, err: bool = False, end: str = "\n", flush: bool = False) -> None:
    """Print for the user: every line the commands print goes through here."""
    print(terminal_text(text), end=end, file=sys.stderr if err else sys.stdout,
          flush=err or flush)


def _content_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", type=Path, default=None, metavar="DIR",
                        help="the archive folder (default: ./content, else the embedded sample)")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="digest",
        description="Turn daily 'trending papers' digests into a tagged static site with feeds.",
        epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"paper-digest {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                     parser_class=_Parser)

    build = commands.add_parser(
        "build", help="build the site (pages, feeds, MkDocs, search) from the archive",
        description="Render the archive to Markdown and feeds in docs_dir, build the HTML "
                    "site with MkDocs and index it with Pagefind.")
    _content_arg(build)
    build.add_argument("--out", type=Path, default=None, metavar="DIR",
                       help="where the site is written (default: ./site)")
    build.add_argument("--config", type=Path, default=None, metavar="FILE",
                       help="the site config (default: ./mkdocs.yml, else the embedded one)")
    build.add_argument("--site-url", default=None, metavar="URL",
                       help="the published address, overriding site_url in the config")
    build.add_argument("--strict", action="store_true",
                       help="fail on any MkDocs warning, such as a broken link")
    build.add_argument("--engine", choices=("mkdocs", "zensical"), default="mkdocs",
                       help="what turns the pages into HTML: MkDocs with Material (default) "
                            "or Zensical, its successor (pip install 'paper-digest[zensical]')")
    build.add_argument("--full", action="store_true",
                       help="rebuild every page and search index, even if the last build's "
                            "can be reused (a rebuild reuses them only when that gives the "
                            "same site)")

    serve = commands.add_parser(
        "serve", help="build the site, then serve it on http://127.0.0.1:8000",
        description="Build the site like 'digest build', then serve it locally. The last "
                    "build is served at once while the new one is made.")
    _content_arg(serve)
    serve.add_argument("--out", type=Path, default=None, metavar="DIR",
                       help="where the site is written (default: build/serve/site, so that "
                            "site/ stays as built for publishing)")
    serve.add_argument("--config", type=Path, default=None, metavar="FILE",
                       help="the site config (default: ./mkdocs.yml, else the embedded one)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default: 8000)")

    ingest = commands.add_parser(
        "ingest", help="add digests (page text, API JSON or YAML records) to the archive",
        description="Read digest files and add their papers to the archive. The same paper "
                    "on several days becomes one paper with several dates. Nothing is "
                    "written unless every file reads cleanly.")
    ingest.add_argument("files", nargs="+", type=Path, metavar="FILE")
    ingest.add_argument("--date", type=_date, default=None, metavar="YYYY-MM-DD",
                        help="the digest date (for a page without one, and the API); the "
                             "reference year for a page date such as 'Mar 11'")
    ingest.add_argument("--format", choices=("text", "api", "yaml"), default=None,
                        help="the input format (default: detected)")
    ingest.add_argument("--content", type=Path, default=None, metavar="DIR",
                        help="the archive folder to add to (default: ./content, made if missing)")

    listing = commands.add_parser(
        "list", help="list every paper of the archive",
        description="Every paper, newest first; with --json as a JSON array.")
    listing.add_argument("--json", action="store_true", help="print JSON")
    _content_arg(listing)

    tags = commands.add_parser(
        "tags", help="report on topic tags, or explain one paper's tags",
        description="Papers per tag, untagged papers and over-broad tags; with --why KEY, "
                    "the phrases that tagged one paper and where they matched.")
    tag_modes = tags.add_mutually_exclusive_group()
    tag_modes.add_argument("--why", metavar="KEY", default=None,
                           help="explain the tags of one paper: its key (or the start of "
                                "it, from 'digest list') or its title")
    tag_modes.add_argument("--score", metavar="LABELS", type=Path, nargs="+", default=None,
                           help="compare the tags with hand labels (JSON Lines of "
                                "{\"title\", \"topics\"}): precision, recall, F1, and per "
                                "topic right / wrong / missed, worst first")
    tag_modes.add_argument("--train", metavar="LABELS", type=Path, nargs="+", default=None,
                           help="fit the topic model on the archive's labelled papers and "
                                "write it beside the taxonomy (topic-model.json)")
    _content_arg(tags)

    related = commands.add_parser(
        "related", help="score the related papers against hand labels",
        description="How many related-paper links join two papers that hand labels give a "
                    "topic in common (labels: JSON Lines of {\"title\", \"topics\"}).")
    related.add_argument("--score", metavar="LABELS", type=Path, nargs="+", required=True)
    _content_arg(related)

    fetch = commands.add_parser(
        "fetch", help="download a day's papers from the Hugging Face API and ingest them",
        description="Ask the daily-papers API for days (all pages) and add each to the "
                    "archive. Without --date or --from: every day since the newest archived "
                    "one, however long ago, and the last 3 again (lists fill in after the "
                    "day). An empty day (weekends, holidays) writes nothing. HF_TOKEN from the "
                    "environment is sent when set.")
    fetch.add_argument("--date", type=_date, default=None, metavar="YYYY-MM-DD",
                       help="fetch this day only")
    fetch.add_argument("--from", dest="start", type=_date, default=None, metavar="YYYY-MM-DD",
                       help="fetch every day from this one (with --to: a range; days the fetch "
                            "log marks complete are skipped, so a stopped run resumes)")
    fetch.add_argument("--to", dest="end", type=_date, default=None, metavar="YYYY-MM-DD",
                       help="the last day of the range (default: today)")
    fetch.add_argument("--today", type=_date, default=None, metavar="YYYY-MM-DD",
                       help="the day taken as today (default: DIGEST_TODAY from the "
                            "environment, else the UTC date): to replay a past stretch of "
                            "days, or for a runner whose clock is wrong")
    fetch.add_argument("--deadline", type=float, default=None, metavar="SECONDS",
                       help="give up after this long (default: 1800)")
    fetch.add_argument("--api", default=None, metavar="URL",
                       help="the API address (default: extra.digest.api_url in mkdocs.yml)")
    fetch.add_argument("--config", type=Path, default=None, metavar="FILE",
                       help="the site config (default: ./mkdocs.yml, else the embedded one)")
    fetch.add_argument("--content", type=Path, default=None, metavar="DIR",
                       help="the archive folder to add to (default: ./content, made if missing)")
    init = commands.add_parser(
        "init", help="start a digest of your own: config, empty archive, publish workflow",
        description="Write a new project into DIR (default: here): mkdocs.yml with the "
                    "site's name and address, content/ with an empty archive and the topics "
                    "(yours to edit), .github/workflows/publish.yml, requirements.txt and "
                    ".gitignore. Nothing of the sample is copied; no file is overwritten.")
    init.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="DIR",
                      help="the project folder (default: the current one; made if missing)")
    init.add_argument("--name", default="Trending Papers Digest",
                      help="the site's name (default: 'Trending Papers Digest')")
    init.add_argument("--site-url", default=None, metavar="URL",
                      help="the published address, e.g. https://you.github.io/digest/ (the "
                           "publish workflow passes GitHub Pages' own)")
    email = commands.add_parser(
        "email", help="the day's digest as an email: print it, write it, or send it",
        description="Make the digest of a day (default: the newest) as an email with a plain "
                    "text and an HTML part, every link to site_url. Without --out or --send "
                    "it is printed. --send delivers it over SMTP with the settings in the "
                    "environment (DIGEST_SMTP_HOST, DIGEST_SMTP_PORT, DIGEST_SMTP_SECURITY, "
                    "DIGEST_SMTP_USER, DIGEST_SMTP_PASSWORD, DIGEST_MAIL_FROM, "
                    "DIGEST_MAIL_TO). A day without papers sends nothing.")
    email.add_argument("--date", type=_date, default=None, metavar="YYYY-MM-DD",
                       help="the day (default: the newest digest)")
    email.add_argument("--topics", nargs="+", default=(), metavar="ID",
                       help="only the papers of these topics (ids from 'digest tags')")
    destination = email.add_mutually_exclusive_group()
    destination.add_argument("--out", type=Path, default=None, metavar="FILE",
                             help="write the message (.eml) here")
    destination.add_argument("--send", action="store_true",
                             help="send it over SMTP (settings from the environment)")
    email.add_argument("--site-url", default=None, metavar="URL",
                       help="the published address, overriding site_url in the config")
    email.add_argument("--config", type=Path, default=None, metavar="FILE",
                       help="the site config (default: ./mkdocs.yml, else the embedded one)")
    _content_arg(email)
    return parser


class Reporter:
    """Progress per stage on a terminal; quiet in CI logs and pipes."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty() and not os.environ.get("CI")

    def __call__(self, stage: str, seconds: float | None, detail: str) -> None:
        if not self.live:
            return
        if seconds is None:  # the stage starts: say so until its line is written over
            print(f"  {stage:<8}    ...", end="\r", file=sys.stderr, flush=True)
        else:
            say(f"  {stage:<8} {seconds:6.2f} s  {detail}", err=True)


def _content(args) -> Path:
    """The archive to read: --content, else ./content, else the embedded sample."""
    from generator.config import default_content_dir
    return args.content if args.content is not None else default_content_dir()


def _writable_content(args) -> Path:
    """The archive to add to: --content, else ./content (made on the first ingest). Never the
    embedded sample, which lives inside the installed package."""
    return args.content if args.content is not None else Path("content")


def cmd_build(args, docs_dir: Path | None = None):
    from generator.build import build
    start = time.perf_counter()
    result = build(_content(args), config_file=args.config, out=args.out,
                   site_url=args.site_url, strict=args.strict,
                   full=getattr(args, "full", False), progress=Reporter(), docs_dir=docs_dir,
                   engine=getattr(args, "engine", "mkdocs"))
    for warning in result.warnings:
        say(f"warning: {warning}", err=True)
    # The publish workflow's log says which kind of build it was.
    if result.site is None:
        how = "nothing changed since the last build"
    else:
        how = (f"{result.written} pages or feeds changed, "
               + ("changed pages rebuilt" if result.incremental else "every page built"))
    say(f"Built {result.out}/ from {result.papers} papers in {result.digests} digests "
        f"({how}) in {time.perf_counter() - start:.1f} s")
    return 0


#: Where `digest serve` builds: apart from site/ and build/docs, which stay fit to publish.
SERVE_DIR = Path("build") / "serve"


def cmd_serve(args) -> int:
    import http.server

    from generator.sitedir import MARKER

    # Built for the address it is served at (feeds, canonical links and instant navigation
    # use the site URL), in a folder of its own.
    args.site_url, args.strict = f"http://127.0.0.1:{args.port}/", False
    args.out = args.out or SERVE_DIR / "site"
    # What is there to show at once while that build runs: the last one made for serving,
    # else the site built for publishing (its links are relative, so it browses the same).
    shown = next((folder for folder in (args.out, Path("site"))
                  if (folder / MARKER).is_file()), None)
    state = {"folder": shown or args.out, "quiet": True}

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *handler_args, **kwargs):
            super().__init__(*handler_args, directory=str(state["folder"]), **kwargs)

        def log_message(self, format, *log_args):  # noqa: A002 - the base class's name
            # Not while the build runs: its progress lines would be cut by request lines.
            if not state["quiet"]:
                super().log_message(format, *log_args)

    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    except OSError as exc:
        raise DigestError(f"cannot serve on port {args.port}: {exc.strerror or exc}",
                          fix="pass another --port, or stop what uses this one") from exc
    address = f"http://127.0.0.1:{args.port}/"
    with server:
        if shown is not None:
            threading.Thread(target=server.serve_forever, daemon=True).start()
            say(f"Serving the last build, {shown}/, on {address} while it is brought up to "
                "date (Ctrl+C stops)", flush=True)
        try:
            cmd_build(args, docs_dir=SERVE_DIR / "docs")
            state["folder"], state["quiet"] = args.out, False
            say(f"Serving {args.out}/ on {address} (Ctrl+C stops)", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                if shown is None:
                    server.serve_forever()
                else:
                    threading.Event().wait()
        finally:
            if shown is not None:
                server.shutdown()
    return 0


def cmd_ingest(args) -> int:
    from generator.commands import ingest_files
    report = ingest_files(args.files, content=_writable_content(args), fmt=args.format,
                          date=args.date)
    for warning in report.warnings:
        say(f"warning: {warning}", err=True)
    for line in report.lines:
        say(line)
    return 0


def cmd_list(args) -> int:
    from generator.commands import paper_lines, paper_listing
    if args.json:
        json.dump(paper_listing(_content(args)), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        lines = paper_lines(_content(args))
        say("\n".join(lines), end="\n" if lines else "")
    return 0


def cmd_tags(args) -> int:
    from generator.commands import score_tags, tags_report, train_tags, why
    if args.why:
        lines = why(_content(args), args.why)
    elif args.score:
        lines = score_tags(_content(args), args.score)
    elif args.train:
        lines = train_tags(_content(args), args.train)
    else:
        lines = tags_report(_content(args))
    say("\n".join(lines))
    return 0


def cmd_related(args) -> int:
    from generator.commands import score_relatedness
    say("\n".join(score_relatedness(_content(args), args.score)))
    return 0


def cmd_fetch(args) -> int:
    from generator.fetch import DEADLINE, fetch_command
    if args.date and (args.start or args.end):
        say("digest fetch: pass --date, or --from and --to, not both - see 'digest fetch "
            "--help'", err=True)
        return 2
    today = args.today
    if today is None and os.environ.get("DIGEST_TODAY"):
        try:
            today = _date(os.environ["DIGEST_TODAY"])
        except argparse.ArgumentTypeError as exc:
            say(f"digest fetch: DIGEST_TODAY: {exc}", err=True)
            return 2
    for line in fetch_command(content=_writable_content(args), date=args.date, api=args.api,
                              start=args.start, end=args.end, config_file=args.config,
                              deadline=args.deadline or DEADLINE, today=today):
        say(line)
    return 0


def cmd_init(args) -> int:
    from generator.project import init_project
    for line in init_project(args.folder, name=args.name, site_url=args.site_url):
        say(line)
    return 0


def cmd_email(args) -> int:
    from generator.commands import email_digest
    lines, printed = email_digest(_content(args), date=args.date, topics=tuple(args.topics),
                                  out=args.out, send_it=args.send, config_file=args.config,
                                  site_url=args.site_url, environ=dict(os.environ))
    if printed is not None:
        sys.stdout.buffer.write(printed)
        sys.stdout.flush()
    for line in lines:
        say(line)
    return 0


COMMANDS = {"build": cmd_build, "serve": cmd_serve, "ingest": cmd_ingest, "list": cmd_list,
            "tags": cmd_tags, "related": cmd_related, "fetch": cmd_fetch,
            "email": cmd_email, "init": cmd_init}


def _stop(signum, frame):
    """Ctrl+C or a plain kill (SIGTERM): unwind as from Ctrl+C, so that a build removes its
    half-made site and stops its helper processes. Not inside an object's ``__del__`` (the
    garbage collector's, at any moment), where Python would print the interrupt as ignored
    and carry on: there the signal is sent again a moment later."""
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            again = threading.Timer(0.01, os.kill, (os.getpid(), signum))
            again.daemon = True
            again.start()
            return
        frame = frame.f_back
    raise KeyboardInterrupt


def _interrupted(exc: BaseException) -> bool:
    """Whether an error is, or was raised while handling, a Ctrl+C or a kill: Python wraps
    an interrupt that lands in some places (a class body's ``__set_name__`` while a module
    is imported, for one) in another error."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def main(argv: list[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
    try:
        args = make_parser().parse_args(argv)
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s",
                            stream=sys.stderr)
        return COMMANDS[args.command](args)
    except DigestError as exc:
        say(str(exc), err=True)
        return 1
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if not _interrupted(exc):
            raise
        return _report_interrupt()
    except KeyboardInterrupt:
        return _report_interrupt()


def run(argv: list[str] | None = None) -> int:
    """The ``digest`` command as a process: :func:`main`, then a quiet end for a Ctrl+C or a
    kill that comes once the command is done, while Python waits for threads to end (there
    it would print the interrupt as ignored, with a traceback)."""
    try:
        return main(argv)
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, _stop_done)
            signal.signal(signal.SIGTERM, _stop_done)


def _stop_done(signum, frame):
    """A signal after the command finished: nothing is left to undo, so end at once."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a flush cut short by this very signal
            stream.flush()
    os._exit(128 + signum)


def _report_interrupt() -> int:
    # A second Ctrl+C or kill while the first is reported must not print a traceback either.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    say("interrupted; the archive is as it was", err=True)
    return 130


if __name__ == "__main__":
    raise SystemExit(run())
