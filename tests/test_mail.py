"""`digest email`: the digest as a MIME message, delivered to a local SMTP server (aiosmtpd)
over STARTTLS, TLS or plain on this machine; both parts parse, hostile text stays text, the
HTML part fits 600 and 360 px without sideways scroll."""

from __future__ import annotations

import contextlib
import email
import email.message
import email.policy
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import sys

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from conftest import ROOT, make_project
from generator.cli import main
from hostile import write_hostile_archive

URL = "https://papers.example.org/"


class Inbox:
    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 OK"


def _login(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"digest" and auth_data.password == b"secret"
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
                   check=True, capture_output=True)
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def smtp(certificate, request):
    """A local SMTP server: plain with STARTTLS offered (needing a login after it), or TLS
    from the start (``request.param == "tls"``)."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    tls = getattr(request, "param", "starttls") == "tls"
    with socket.socket() as probe:  # a free port: aiosmtpd does not report the one it got
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port,
                            ssl_context=context if tls else None,
                            tls_context=None if tls else context,
                            require_starttls=not tls, authenticator=_login, auth_required=True,
                            # Over TLS from the start, aiosmtpd does not know it is encrypted.
                            auth_require_tls=not tls, server_hostname="localhost")
    controller.start()
    yield {"inbox": inbox, "port": port, "cafile": str(cert),
           "security": "tls" if tls else "starttls"}
    controller.stop()


def env_for(smtp, monkeypatch, **extra):
    values = {"DIGEST_SMTP_HOST": "127.0.0.1", "DIGEST_SMTP_PORT": str(smtp["port"]),
              "DIGEST_SMTP_SECURITY": smtp["security"], "DIGEST_SMTP_USER": "digest",
              "DIGEST_SMTP_PASSWORD": "secret", "DIGEST_MAIL_FROM": "digest@example.org",
              "DIGEST_MAIL_TO": "a@example.org, b@example.org",
              "DIGEST_SMTP_CAFILE": smtp["cafile"], **extra}
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def parts(raw: bytes) -> dict[str, str]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    return {p.get_content_type(): p.get_content() for p in msg.iter_parts()} | {
        "subject": msg["Subject"], "unsubscribe": msg["List-Unsubscribe"] or ""}


@pytest.mark.parametrize("smtp", ["starttls", "tls"], indirect=True)
def test_the_digest_arrives_with_a_text_and_an_html_part(project, smtp, monkeypatch, capsys):
    env_for(smtp, monkeypatch)
    assert main(["email", "--send", "--site-url", URL]) == 0
    assert capsys.readouterr().out == ("Sent the digest of 2026-04-29 (78 papers) to 2 "
                                       "addresses\n")
    [(sender, to, raw)] = smtp["inbox"].messages
    assert (sender, to) == ("digest@example.org", ["a@example.org", "b@example.org"])
    got = parts(raw)
    assert got["subject"] == "Trending papers, Wednesday 29 April 2026"
    assert "1. Efficient LLM Training and Serving" in got["text/plain"]
    assert f"On the web: {URL}digests/2026-04-29/" in got["text/plain"]
    assert "To stop receiving this digest" in got["text/plain"]
    html = got["text/html"]
    assert 'max-width:600px' in html and "<img" not in html and "<style" not in html
    hrefs = [h.split('"', 1)[0] for h in html.split('href="')[1:]]
    # Every link absolute: the site's pages, and the papers' own links as on the cards.
    assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs)
    assert sum(h.startswith(URL) for h in hrefs) >= 50 + 2  # 50 papers, the day, the site
    assert "https://arxiv.org/pdf/" not in html or "PDF</a>" in html
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    # RFC 5322: a Date (when it was sent) and a Message-ID.
    assert msg["Date"].datetime.tzinfo is not None
    assert re.fullmatch(r"<digest-2026-04-29-[0-9a-f]{16}@papers\.example\.org>",
                        msg["Message-ID"])


def test_only_the_chosen_topics_and_an_empty_day_sends_nothing(project, smtp, monkeypatch,
                                                               capsys):
    env_for(smtp, monkeypatch)
    assert main(["email", "--send", "--site-url", URL, "--topics", "video"]) == 0
    [(_, _, raw)] = smtp["inbox"].messages
    got = parts(raw)
    assert got["subject"] == "Trending papers on Video, Wednesday 29 April 2026"
    capsys.readouterr()
    assert main(["email", "--send", "--site-url", URL, "--date", "2026-04-30"]) == 0
    assert capsys.readouterr().out == "2026-04-30: no papers; nothing sent\n"
    assert len(smtp["inbox"].messages) == 1


def test_settings_come_from_the_environment_and_are_checked(project, smtp, monkeypatch, capsys):
    env_for(smtp, monkeypatch, DIGEST_SMTP_PASSWORD="wrong")
    assert main(["email", "--send", "--site-url", URL]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"127.0.0.1:{smtp['port']}: the mail server refused the login (535)")
    monkeypatch.delenv("DIGEST_MAIL_TO")
    assert main(["email", "--send", "--site-url", URL]) == 1
    assert capsys.readouterr().err == ("DIGEST_MAIL_TO is not set - set DIGEST_MAIL_TO in the "
                                       "environment (in GitHub Actions: a repository secret)\n")
    # Every missing setting in one run, not one a run.
    for name in ("DIGEST_SMTP_HOST", "DIGEST_MAIL_FROM"):
        monkeypatch.delenv(name)
    assert main(["email", "--send", "--site-url", URL]) == 1
    assert [line.split(" is not set")[0] for line in capsys.readouterr().err.splitlines()] == [
        "DIGEST_SMTP_HOST", "DIGEST_MAIL_TO", "DIGEST_MAIL_FROM"]
    env_for(smtp, monkeypatch, DIGEST_MAIL_TO="a@example.org\r\nBcc: victim@example.org")
    assert main(["email", "--send", "--site-url", URL]) == 1
    assert capsys.readouterr().err == ("DIGEST_MAIL_TO holds a line break - set DIGEST_MAIL_TO "
                                       "on one line\n")
    env_for(smtp, monkeypatch, DIGEST_SMTP_HOST="smtp.example.org", DIGEST_SMTP_SECURITY="none")
    assert main(["email", "--send", "--site-url", URL]) == 1
    assert "unencrypted to smtp.example.org" in capsys.readouterr().err
    assert smtp["inbox"].messages == []


@pytest.fixture(scope="module")
def hostile_mail(tmp_path_factory):
    folder = make_project(tmp_path_factory.mktemp("hostile-mail") / "project", content=None)
    papers = write_hostile_archive(folder / "content")
    shutil.copy(ROOT / "content" / "taxonomy.yaml", folder / "content" / "taxonomy.yaml")
    out = folder / "digest.eml"
    result = subprocess.run([sys.executable, "-m", "generator", "email", "--site-url", URL, "--out",
                             str(out)], cwd=folder, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return parts(out.read_bytes()), papers


def test_hostile_titles_stay_text_in_both_parts(hostile_mail, browser_page):
    got, papers = hostile_mail
    for paper in papers:
        assert paper.title in got["text/plain"]
    page = browser_page(got["text/html"], 600)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("script, iframe, img").count() == 0
    shown = page.locator("a").all_inner_texts()
    assert {p.title for p in papers} <= set(shown)


@pytest.mark.parametrize("width", [600, 360])
def test_the_html_part_fits_a_phone_and_a_desktop_client(project, capsys, browser_page, width):
    assert main(["email", "--site-url", URL]) == 0
    got = parts(capsys.readouterr().out.encode("utf-8"))
    page = browser_page(got["text/html"], width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def browser_page(tmp_path):
    from playwright.sync_api import sync_playwright

    from test_browser import ARGS, CHROMIUM
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)

        def open_html(html: str, width: int):
            page = browser.new_page(viewport={"width": width, "height": 800})
            path = tmp_path / f"mail-{width}.html"
            path.write_text(html, encoding="utf-8")
            page.goto(path.as_uri())
            return page

        yield open_html
        browser.close()


def test_both_parts_match_their_golden_files(update_golden):
    """The small archive's digest of 11 March, part by part (a message's boundary is random;
    its parts are not). Review changes like code; regenerate with --update-golden."""
    from conftest import DATA
    from generator.build import load_site
    from generator.config import load_config
    from generator.mail import choose, message

    site = load_site(DATA / "small", load_config(ROOT / "mkdocs.yml", site_url=URL), related={})
    digest, papers = choose(site, None)
    got = parts(message(site, digest, papers, sender="digest@example.org",
                        to=["reader@example.org"]).as_bytes())
    for name, kind in (("email.txt", "text/plain"), ("email.html", "text/html")):
        golden = DATA / "golden" / name
        if update_golden:
            golden.write_text(got[kind], encoding="utf-8")
        assert got[kind] == golden.read_text(encoding="utf-8"), name


def test_the_same_digest_is_the_same_message_byte_for_byte(project, tmp_path):
    """Date, Message-ID and the MIME boundary come from the digest, not the clock or chance."""
    outputs = []
    for name in ("one.eml", "two.eml"):
        assert main(["email", "--site-url", URL, "--out", str(tmp_path / name)]) == 0
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    msg = email.message_from_bytes(outputs[0], policy=email.policy.default)
    assert msg["Date"] == "Wed, 29 Apr 2026 06:00:00 +0000"
    assert msg.get_boundary().startswith("=_digest_")


class Refusing(Inbox):
    """A server that takes the first recipient and refuses the others (550, then 451)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if envelope.rcpt_tos:
            return "550 no such user" if address.startswith("b@") else "451 try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_refused_recipient_is_an_error_not_a_success(project, monkeypatch, capsys):
    inbox = Refusing()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for name, value in {"DIGEST_SMTP_HOST": "127.0.0.1", "DIGEST_SMTP_PORT": str(port),
                            "DIGEST_SMTP_SECURITY": "none", "DIGEST_MAIL_FROM": "d@example.org",
                            "DIGEST_MAIL_TO": "a@example.org, b@example.org, c@example.org"
                            }.items():
            monkeypatch.setenv(name, value)
        assert main(["email", "--send", "--site-url", URL]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == (
            f"127.0.0.1:{port}: sent to 1 of 3 addresses; refused: b@example.org (550 no such "
            "user), c@example.org (451 try later) - correct DIGEST_MAIL_TO, or ask the "
            "server's owner why\n")
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def _hostile_smtp(behaviour: str):
    """A server on 127.0.0.1 that greets without end (``"greet"``) or takes the message and
    then never answers QUIT (``"quit"``)."""
    import threading
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve():
        with contextlib.suppress(OSError):
            connection, _ = listener.accept()
            with connection:
                if behaviour == "greet":
                    while True:
                        connection.sendall(b"220-still greeting\r\n")
                        threading.Event().wait(0.05)
                reader = connection.makefile("rb")
                connection.sendall(b"220 hello\r\n")
                for line in reader:
                    word = line[:4].upper()
                    if word in (b"EHLO", b"HELO"):
                        connection.sendall(b"250 ok\r\n")
                    elif word == b"DATA":
                        connection.sendall(b"354 go on\r\n")
                        for body in reader:
                            if body == b".\r\n":
                                break
                        connection.sendall(b"250 queued\r\n")
                    elif word == b"QUIT":
                        threading.Event().wait(60)  # never answers
                    else:
                        connection.sendall(b"250 ok\r\n")

    threading.Thread(target=serve, daemon=True).start()
    return listener


@pytest.mark.parametrize("behaviour", ["greet", "quit"])
def test_a_server_that_never_ends_cannot_hold_the_send(project, monkeypatch, behaviour):
    import time

    from generator import mail
    from generator.errors import DigestError
    listener = _hostile_smtp(behaviour)
    config = {"host": "127.0.0.1", "port": listener.getsockname()[1], "security": "none",
              "user": "", "password": "", "sender": "d@example.org", "to": ["a@example.org"],
              "cafile": None}
    msg = email.message.EmailMessage()
    msg["Subject"] = "x"
    msg.set_content("x")
    started = time.monotonic()
    try:
        if behaviour == "greet":
            with pytest.raises(DigestError) as error:
                mail.send(msg, config, timeout=30, deadline=1.5)
            assert "did not finish within 1.5 s" in str(error.value)
        else:  # delivered; a QUIT that is never answered does not hold the command
            mail.send(msg, config, timeout=30, deadline=1.5)
        assert time.monotonic() - started < 10
    finally:
        listener.close()


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder"])
def test_email_out_never_replaces_a_special_file_or_follows_a_symlink(project, tmp_path,
                                                                       capsys, kind):
    target = tmp_path / "target"
    if kind == "symlink":
        target.write_text("keep me")
        (tmp_path / "out.eml").symlink_to(target)
    elif kind == "fifo":
        os.mkfifo(tmp_path / "out.eml")
    else:
        (tmp_path / "out.eml").mkdir()
    assert main(["email", "--site-url", URL, "--out", str(tmp_path / "out.eml")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{tmp_path / 'out.eml'}: ")
    out = tmp_path / "out.eml"
    assert out.is_symlink() if kind == "symlink" else (
        stat.S_ISFIFO(out.lstat().st_mode) if kind == "fifo" else out.is_dir())
    if kind == "symlink":
        assert target.read_text() == "keep me"


def test_email_out_dash_is_standard_output_and_a_file_is_written(project, tmp_path, capsys):
    assert main(["email", "--site-url", URL, "--out", "-"]) == 0
    printed = capsys.readouterr().out
    assert "Trending papers, Wednesday 29 April 2026" in printed
    existing = tmp_path / "digest.eml"
    existing.write_text("old")
    assert main(["email", "--site-url", URL, "--out", str(existing)]) == 0
    assert existing.read_bytes().startswith(b"Subject: Trending papers, Wednesday 29 April")
