"""Site + a day -> the digest as an email (MIME multipart/alternative), and sending it.

``message`` is pure: a plain-text part and an HTML part that email clients render (tables,
inline styles, 600 px wide at most, no images, every link absolute to site_url), with a link
to the day's page and the owner's unsubscribe line. Record text reaches the HTML part only
HTML-escaped and the headers only as the standard library's email package encodes them.

``send`` delivers a message over SMTP with STARTTLS or TLS. Its settings come from the
environment only (never from files in the repository):

- ``DIGEST_SMTP_HOST``, ``DIGEST_SMTP_PORT`` (default 587, or 465 with TLS);
- ``DIGEST_SMTP_SECURITY``: ``starttls`` (default), ``tls``, or ``none`` (refused unless the
  host is this machine, for trying it out);
- ``DIGEST_SMTP_USER``, ``DIGEST_SMTP_PASSWORD`` (optional: no login without them);
- ``DIGEST_MAIL_FROM``, ``DIGEST_MAIL_TO`` (addresses, comma-separated);
- ``DIGEST_SMTP_CAFILE``: a certificate authority to trust besides the system's.
"""

from __future__ import annotations

import contextlib
import datetime
import email.utils
import hashlib
import html
import smtplib
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formataddr, getaddresses

from generator import layout
from generator.errors import DigestError, raise_all
from generator.layout import Site, summary_of
from generator.markup import attribute_url
from generator.records import Digest, Paper

#: Papers an email lists at the most; the day's page has them all.
MOST = 50
_LOCAL = ("localhost", "127.0.0.1", "::1")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def choose(site: Site, date: datetime.date | None,
           topics: tuple[str, ...] = ()) -> tuple[Digest | None, list[Paper]]:
    """The day's digest (the newest when ``date`` is None) and its papers to send: all, or
    only those of the chosen topics. Pure."""
    unknown = [t for t in topics if t not in site.tags_by_id]
    if unknown:
        raise DigestError(f"no topic '{unknown[0]}'", fix="use a topic id from 'digest tags'")
    digest = next((d for d in site.digests if date is None or d.date == date), None)
    if digest is None:
        return None, []
    papers = [p for p in digest.papers if not topics or set(topics) & set(p.tags)]
    return digest, papers


def message(site: Site, digest: Digest, papers: list[Paper], *, sender: str, to: list[str],
            topics: tuple[str, ...] = ()) -> EmailMessage:
    """The digest of a day as an email. Pure."""
    config = site.config
    day_url = site.absolute(layout.digest_page(digest.date))
    names = [site.tags_by_id[t].name for t in topics]
    about = f" on {', '.join(names)}" if names else ""
    subject = f"Trending papers{about}, {layout.long_date(digest.date)}"
    shown = papers[:MOST]
    more = len(papers) - len(shown)
    unsubscribe = config.email_unsubscribe

    lines = [subject, "", f"{len(papers)} paper{'s' if len(papers) != 1 else ''}{about}, "
             f"ranked as on the day. On the web: {day_url}", ""]
    for paper in shown:
        rank = digest.papers.index(paper) + 1
        lines.append(f"{rank}. {_one_line(paper.title)}")
        counts = _counts(paper)
        if counts:
            lines.append(f"   {counts}")
        lines.append(f"   {_one_line(summary_of(paper))}")
        lines.append(f"   {site.paper_url(paper)}")
        for label, url in _links(paper):
            lines.append(f"   {label}: {url}")
        lines.append("")
    if more:
        lines += [f"And {more} more on the day's page: {day_url}", ""]
    lines += ["--", f"{config.site_name}: {config.site_url}", unsubscribe]
    text = "\n".join(lines) + "\n"

    body_html = _html(site, digest, shown, more, subject, about, day_url, papers)
    msg = EmailMessage()
    msg["Subject"] = _one_line(subject)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    # RFC 5322 wants both; made from the digest, so that the same digest is the same message
    # (``send`` dates it when it goes out).
    msg["Date"] = email.utils.format_datetime(datetime.datetime(
        *digest.date.timetuple()[:3], 6, 0, tzinfo=datetime.timezone.utc))
    fingerprint = hashlib.sha256(f"{text}\n{body_html}\n{sender}\n{to}".encode()).hexdigest()
    host = urllib.parse.urlsplit(config.site_url or "").hostname or "paper-digest.invalid"
    msg["Message-ID"] = f"<digest-{digest.date}-{fingerprint[:16]}@{host}>"
    link = _unsubscribe_link(unsubscribe)
    if link:
        msg["List-Unsubscribe"] = f"<{link}>"
    msg.set_content(text)
    msg.add_alternative(body_html, subtype="html")
    # The boundary from the content, not the clock: the same digest gives the same bytes.
    msg.set_boundary(f"=_digest_{fingerprint[16:48]}")
    return msg


def _links(paper: Paper) -> list[tuple[str, str]]:
    """The paper's own links, as on its card: arXiv, PDF, code, project page."""
    return [(label, url) for label, url in layout.paper_links(paper, search=False)
            if label != "Hugging Face"]


def _counts(paper: Paper) -> str:
    parts = []
    if paper.authors:
        parts.append(layout.authors_short(paper.authors))
    if paper.upvotes is not None:
        parts.append(f"{paper.upvotes} upvote{'s' if paper.upvotes != 1 else ''}")
    if paper.github_stars is not None:
        parts.append(f"{paper.github_stars} GitHub stars")
    return _one_line(" · ".join(parts))


def _unsubscribe_link(text: str) -> str | None:
    for word in text.split():
        word = word.strip("<>()[],.;")
        if word.startswith(("https://", "http://", "mailto:")):
            return word
    return None


#: Inline styles: email clients drop style sheets.
_FONT = "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;"
_MUTED = "color:#4a4f5c;font-size:13px;line-height:1.4;"


def _html(site: Site, digest: Digest, shown: list[Paper], more: int, subject: str, about: str,
          day_url: str, papers: list[Paper]) -> str:
    e = html.escape
    config = site.config
    rows = []
    for paper in shown:
        rank = digest.papers.index(paper) + 1
        topics = ", ".join(site.tags_by_id[t].name for t in paper.tags)
        counts = _counts(paper)
        rows.append(
            f'<tr><td style="{_FONT}padding:12px 0;border-bottom:1px solid #d5d9e3;'
            f'word-wrap:break-word;overflow-wrap:break-word">'
            f'<div style="{_MUTED}">{rank}.</div>'
            f'<a href="{attribute_url(site.paper_url(paper))}" style="color:#1f3a8a;'
            f'font-size:17px;font-weight:bold;line-height:1.3">{e(paper.title)}</a>'
            + (f'<div style="{_MUTED}">{e(counts)}</div>' if counts else "")
            + f'<div style="font-size:15px;line-height:1.45;color:#16181d;margin-top:4px">'
            f'{e(summary_of(paper))}</div>'
            + (f'<div style="{_MUTED}margin-top:4px">{e(topics)}</div>' if topics else "")
            + (f'<div style="{_MUTED}margin-top:4px">' + " · ".join(
                f'<a href="{attribute_url(url)}" style="color:#1f3a8a">{e(label)}</a>'
                for label, url in _links(paper)) + "</div>" if _links(paper) else "")
            + "</td></tr>")
    if more:
        rows.append(f'<tr><td style="{_FONT}padding:12px 0;font-size:15px">And {more} more on '
                    f'<a href="{attribute_url(day_url)}" style="color:#1f3a8a">the day\'s '
                    f'page</a>.</td></tr>')
    count = f"{len(papers)} paper{'s' if len(papers) != 1 else ''}{e(about)}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(subject)}</title></head>"
        '<body style="margin:0;padding:0;background:#ffffff">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">'
        '<tr><td align="center" style="padding:16px 12px">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="max-width:600px;width:100%;table-layout:fixed">'
        f'<tr><td style="{_FONT}padding:0 0 8px"><h1 style="font-size:22px;line-height:1.25;'
        f'margin:0;color:#16181d">{e(subject)}</h1>'
        f'<div style="{_MUTED}margin-top:6px">{count}, ranked as on the day. '
        f'<a href="{attribute_url(day_url)}" style="color:#1f3a8a">Read it on the web</a>'
        "</div></td></tr>"
        + "".join(rows)
        + f'<tr><td style="{_FONT}{_MUTED}padding:16px 0">'
        f'<a href="{attribute_url(config.site_url)}" style="color:#1f3a8a">'
        f"{e(config.site_name)}</a><br>{e(config.email_unsubscribe)}</td></tr>"
        "</table></td></tr></table></body></html>\n")


# -- sending ------------------------------------------------------------------------------------

def settings(environ: Mapping[str, str]) -> dict:
    """The SMTP settings from the environment; every missing or bad one is reported at
    once, each naming its variable."""
    errors: list[DigestError] = []

    def problem(message: str, fix: str) -> None:
        errors.append(DigestError(message, fix=fix))

    def value(name: str, required: bool = False, default: str = "") -> str:
        text = environ.get(name, "")
        if "\r" in text or "\n" in text:
            problem(f"{name} holds a line break", f"set {name} on one line")
            return ""
        text = text.strip()
        if required and not text:
            problem(f"{name} is not set", f"set {name} in the environment (in GitHub Actions: "
                                          "a repository secret)")
        return text or default

    security = value("DIGEST_SMTP_SECURITY", default="starttls").lower()
    if security not in ("starttls", "tls", "none"):
        problem(f"DIGEST_SMTP_SECURITY is {security!r}", "set it to starttls, tls or none")
    host = value("DIGEST_SMTP_HOST", required=True)
    if security == "none" and host and host not in _LOCAL:
        problem(f"DIGEST_SMTP_SECURITY=none would send the password and the mail unencrypted "
                f"to {host}", "use starttls or tls; none is for a server on this machine")
    port = value("DIGEST_SMTP_PORT") or ("465" if security == "tls" else "587")
    if not port.isdigit() or not 0 < int(port) < 65536:
        problem(f"DIGEST_SMTP_PORT is {port!r}", "set it to a port number (1 to 65535)")
    to_text = value("DIGEST_MAIL_TO", required=True)
    sender = value("DIGEST_MAIL_FROM", required=True)
    to = [a for _, a in getaddresses([to_text]) if "@" in a]
    if to_text and not to:
        problem("DIGEST_MAIL_TO holds no email address", "set it like 'you@example.org' "
                                                         "(several: comma-separated)")
    if sender and "@" not in sender:
        problem("DIGEST_MAIL_FROM is not an email address", "set it like 'digest@example.org'")
    user = value("DIGEST_SMTP_USER")
    password = environ.get("DIGEST_SMTP_PASSWORD", "")
    raise_all(errors)
    return {"host": host, "port": int(port), "security": security, "user": user,
            "password": password,
            "sender": formataddr(("", sender)) if "<" not in sender else sender, "to": to,
            "cafile": value("DIGEST_SMTP_CAFILE") or None}


#: Seconds a whole delivery may take, however slowly the server answers.
SEND_DEADLINE = 120.0


def send(msg: EmailMessage, config: dict, timeout: float = 60.0,
         deadline: float = SEND_DEADLINE) -> None:
    """Deliver ``msg`` with the ``settings``; any failure, a refused recipient included, is
    one DigestError. The whole delivery ends within ``deadline`` seconds: a watchdog closes
    the connection of a server that talks without end or not at all."""
    context = ssl.create_default_context(cafile=config["cafile"])
    where = f"{config['host']}:{config['port']}"
    server = None
    late = threading.Event()

    def cut_off() -> None:
        late.set()
        sock = getattr(server, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(deadline, cut_off)
    watchdog.daemon = True
    watchdog.start()
    try:
        timeout = min(timeout, deadline)
        if config["security"] == "tls":
            server = smtplib.SMTP_SSL(timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(timeout=timeout)
        server._host = config["host"]  # what SMTP(host) sets: TLS checks the certificate for it
        code, reply = server.connect(config["host"], config["port"])
        if code != 220:
            raise smtplib.SMTPConnectError(code, reply)
        if config["security"] == "starttls":
            server.starttls(context=context)
        if config["user"]:
            server.login(config["user"], config["password"])
        del msg["Date"]
        msg["Date"] = datetime.datetime.now(datetime.timezone.utc)
        refused = server.send_message(msg, from_addr=config["sender"], to_addrs=config["to"])
        if refused:
            names = ", ".join(f"{address} ({code} {_said(reply)})"
                              for address, (code, reply) in sorted(refused.items()))
            raise DigestError(f"sent to {len(config['to']) - len(refused)} of "
                              f"{len(config['to'])} addresses; refused: {names}", path=where,
                              fix="correct DIGEST_MAIL_TO, or ask the server's owner why")
        with contextlib.suppress(smtplib.SMTPException, OSError):
            server.quit()
    except smtplib.SMTPAuthenticationError as exc:
        raise DigestError(f"the mail server refused the login ({exc.smtp_code})", path=where,
                          fix="check DIGEST_SMTP_USER and DIGEST_SMTP_PASSWORD") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DigestError(f"the mail server refused every address ({len(exc.recipients)})",
                          path=where, fix="correct DIGEST_MAIL_TO") from exc
    except (smtplib.SMTPException, OSError, ssl.SSLError, ValueError) as exc:
        if late.is_set():
            raise DigestError(f"the mail server did not finish within {deadline:g} s",
                              path=where, fix="try again later, or use another server") from exc
        raise DigestError(f"cannot send the email: {_said(exc)}", path=where,
                          fix="check DIGEST_SMTP_HOST, DIGEST_SMTP_PORT and "
                              "DIGEST_SMTP_SECURITY") from exc
    finally:
        watchdog.cancel()
        if server is not None:
            server.close()


def _said(text: object) -> str:
    """What a server said, on one line of printable text."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "".join(c if c.isprintable() else " " for c in str(text))[:200].strip()
