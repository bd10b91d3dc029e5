"""The command line: help for every command, exact error lines, exit codes, no tracebacks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, ROOT, snapshot
from generator.cli import COMMANDS, main, make_parser
from generator.tagging import load_taxonomy


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_command_has_help_and_is_in_the_readme(capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        out, _ = capsys.readouterr()
        assert out.startswith(f"usage: digest {command}")
        assert f"`digest {command}" in readme, command
    choices = make_parser()._subparsers._group_actions[0].choices
    assert set(choices) == set(COMMANDS)


def test_readme_quick_start_is_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["pip install -e . && digest build", "bash .ci/run"]
    assert "python -m pytest" in readme
    assert "python3 -m pytest" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_ingest_error_is_one_line_with_exit_1_and_nothing_written(project, capsys):
    before = snapshot(project / "content")
    bad = DATA / "ingest" / "error_last_title_without_abstract.txt"
    code, out, err = run(capsys, "ingest", str(bad))
    assert code == 1
    assert out == ""
    assert err == (f"{bad}:9: the last title has no abstract: 'Prompting Is All You Need?'"
                   " - add its abstract on the next line, or remove it\n")
    assert snapshot(project / "content") == before


def test_ingest_without_a_date_says_to_pass_one(project, capsys):
    page = DATA / "ingest" / "error_no_date.txt"
    code, _, err = run(capsys, "ingest", str(page))
    assert (code, err) == (1, f"{page}:1: no date in digest - pass --date YYYY-MM-DD\n")


def test_every_bad_file_is_reported_at_once(project, capsys):
    files = [DATA / "ingest" / n for n in ("error_empty_file.txt", "error_malformed_json.json")]
    code, _, err = run(capsys, "ingest", *map(str, files))
    assert code == 1
    assert err.splitlines() == [
        f"{files[0]}:1: the file is empty - pass a saved digest page, an API JSON answer or an"
        " archive YAML",
        f"{files[1]}:3: not valid JSON: Expecting ',' delimiter (column 3) - pass the API's"
        " answer unchanged"]


def test_a_missing_file_is_a_clear_error(project, capsys):
    code, _, err = run(capsys, "ingest", "no-such-file.txt")
    assert (code, err) == (1, "no-such-file.txt: cannot read: No such file or directory"
                              " - check the file name\n")


def test_a_bad_date_option_is_a_usage_error_of_one_line(project, capsys):
    """Mistakes on the command line exit 2 (README says so) with one line, not the usage."""
    with pytest.raises(SystemExit) as exit_:
        main(["ingest", "x.txt", "--date", "11/03/2026"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        "digest ingest: argument --date: '11/03/2026' is not a date; write it as YYYY-MM-DD - "
        "see 'digest ingest --help'\n")
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--port", "99999"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        "digest serve: argument --port: '99999' is not a port; pass a number from 1 to 65535 - "
        "see 'digest serve --help'\n")


def test_ingest_then_list_json(project, capsys):
    code, out, _ = run(capsys, "ingest", str(DATA / "ingest" / "layout_a_no_date.txt"),
                       "--date", "2026-05-01")
    assert code == 0
    assert out == ("2026-05-01: 2 papers, 2 new to the archive -> "
                   "content/digests/2026-05-01.yaml\n")
    code, out, _ = run(capsys, "list", "--json")
    papers = json.loads(out)
    assert len(papers) == 325
    first = papers[0]
    assert first["key"] == "transfer-learning-made-simple"
    assert first["dates"] == ["2026-05-01"]
    assert first["url"] == "papers/transfer-learning-made-simple/"
    assert first["links"] == ["https://github.com/example/transfer"]
    assert set(first) >= {"key", "title", "abstract", "dates", "tags", "links", "url"}
    for paper in papers:
        assert paper["dates"] == sorted(paper["dates"])
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in paper["dates"])


def test_tags_report_lists_topics_by_paper_count(project, capsys):
    code, out, _ = run(capsys, "tags")
    assert code == 0
    assert re.match(r"323 papers, 32\d tagged \(\d\d\.\d%\), median \d tags a paper", out)
    counts = [int(line.split()[0]) for line in out.split("Papers per tag, most first:\n")[1]
              .split("\n\n")[0].splitlines()]
    topics = load_taxonomy(project / "content" / "taxonomy.yaml").tags
    assert len(counts) == len(topics) and counts == sorted(counts, reverse=True)
    assert "Tags on more than a third of the archive: none" in out
    assert re.search(r"Topic model: fitted on [\d,]+ labelled papers "
                     r"\(tests/data/labels/seeds.jsonl", out)
    code, _, err = run(capsys, "tags", "--why", "nope")
    assert (code, err) == (1, "content: no paper with key or title 'nope' - see the keys with"
                              " 'digest list'\n")


def test_a_bad_taxonomy_stops_the_build_before_anything_is_written(project, capsys):
    (project / "content" / "taxonomy.yaml").write_text(
        "tags:\n  - id: video\n    name: Video\n    match: []\n", encoding="utf-8")
    code, _, err = run(capsys, "build")
    assert code == 1
    assert err == ("content/taxonomy.yaml:2: tag 'video': 'match' must be a non-empty list of"
                   " phrases - write it as match: [first phrase, second phrase]\n")
    # Only the build cache and the lock may exist by now: no page and no site was written.
    assert not (project / "build" / "docs").exists() and not (project / "site").exists()


def test_module_and_console_script_run_without_traceback(tmp_path):
    bad = DATA / "ingest" / "error_binary_file.txt"
    result = subprocess.run([sys.executable, "-m", "generator", "ingest", str(bad),
                             "--content", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr == (f"{bad}:1: this is a binary file, not a digest - pass the digest"
                             " saved as text (UTF-8)\n")


def test_ingest_outside_a_project_starts_a_new_archive_in_content(tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "ingest", str(DATA / "ingest" / "layout_b_with_date.txt"),
                       "--date", "2026-11-23")
    assert code == 0
    assert out.startswith("2026-03-11: 2 papers, 2 new to the archive -> content/digests/")
    assert sorted(p.name for p in (tmp_path / "content" / "digests").iterdir()) == \
        ["2026-03-11.yaml"]


def test_build_progress_shows_on_a_terminal_and_not_in_ci(project, capsys, monkeypatch):
    from generator import cli
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(cli.sys.stderr, "isatty", lambda: True)
    assert main(["build", "--site-url", "http://127.0.0.1:1/"]) == 0
    out, err = capsys.readouterr()
    stages = [line.split()[0] for line in err.split("\n") if line.strip()]
    assert stages == ["config", "load", "tag", "relate", "pages", "feeds", "write", "mkdocs",
                      "search"]
    assert out.startswith("Built site/ from 323 papers in 3 digests")
    monkeypatch.setenv("CI", "true")
    assert main(["build", "--site-url", "http://127.0.0.1:1/"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.startswith("Built site/")


def test_a_failure_beside_mkdocs_is_one_line_and_the_next_build_is_full(project, capsys,
                                                                         monkeypatch):
    """Feeds and the search index are made in other processes: their errors still reach the
    user as one line, and a failed build leaves no stamp for a partial rebuild to trust."""
    from generator import search
    from generator.errors import BuildError

    def broken(site, cache, full):
        raise BuildError("Pagefind failed: no space left", fix="free some disk space")

    with monkeypatch.context() as patch:
        patch.setattr(search, "index", broken)
        code, _, err = run(capsys, "build", "--site-url", "http://127.0.0.1:1/")
    assert code == 1
    assert err == "Pagefind failed: no space left - free some disk space\n"
    code, out, _ = run(capsys, "build", "--site-url", "http://127.0.0.1:1/")
    assert code == 0 and "every page built" in out
    code, out, _ = run(capsys, "build", "--site-url", "http://127.0.0.1:1/")
    assert code == 0 and "(nothing changed since the last build)" in out


def test_a_broken_config_is_one_line(project, capsys):
    config = project / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "site_name: Trending Papers Digest", "site_name: [unclosed"), encoding="utf-8")
    code, _, err = run(capsys, "build")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("mkdocs.yml:") and "not valid YAML" in err


def test_a_bad_archive_file_stops_the_build_with_its_line(project, capsys):
    day = project / "content" / "digests" / "2026-03-11.yaml"
    day.write_bytes(day.read_bytes().replace(b"date: 2026-03-11", b"date: 2026-03-11\ndate: x"))
    code, _, err = run(capsys, "build")
    assert (code, err) == (1, "content/digests/2026-03-11.yaml:3: not valid YAML: the key 'date'"
                              " is written twice (first at line 2) - keep one of them\n")
    assert not (project / "site").exists()


def _api_day(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_hostile_api_fields_are_one_line_or_dropped_never_a_traceback(project, capsys,
                                                                      tmp_path):
    before = snapshot(project / "content")
    # An integer of 5,000 digits: one line, nothing written.
    huge = _api_day(tmp_path, "2026-03-06.json",
                    '[{"paper": {"id": "2603.00001", "title": "T", "upvotes": ' + "9" * 5000
                    + "}}]")
    code, _, err = run(capsys, "ingest", str(huge))
    assert code == 1 and err.count("\n") == 1 and err.startswith(f"{huge}:1: not an answer")
    assert snapshot(project / "content") == before
    # A lone surrogate in a URL: the URL is not kept, the paper is.
    surrogate = _api_day(tmp_path, "2026-03-07.json",
                         '[{"paper": {"id": "2603.00002", "title": "Surrogates", "summary": '
                         '"S.", "githubRepo": "https://github.com/a/\\ud800"}}]')
    assert run(capsys, "ingest", str(surrogate))[0] == 0
    assert main(["list"]) == 0
    assert "Surrogates" in capsys.readouterr().out


def test_an_api_day_is_the_day_its_file_is_named_for(project, tmp_path, capsys):
    """As README says: --date, else the file's name, else the day its papers were listed."""
    day = _api_day(tmp_path, "2026-03-09.json",
                   '[{"paper": {"id": "2603.00003", "title": "Named", "summary": "S.", '
                   '"submittedOnDailyAt": "2026-03-10T00:00:00.000Z"}}]')
    assert run(capsys, "ingest", str(day))[0] == 0
    assert (project / "content" / "digests" / "2026-03-09.yaml").is_file()


@pytest.mark.parametrize("text, says", [
    ("date: 0001-01-15\npapers: []\n", "0001-01-15 is not a day of a digest (they lie between "
                                        "1991 and 2999) - correct the date (YYYY-MM-DD)"),
    ("date: 9999-12-31\npapers: []\n", "9999-12-31 is not a day of a digest"),
    ("date: 2026-03-12\npapers:\n- key: \"a\\e]0;pwned\\a\"\n  title: T\n  abstract: A.\n",
     "the key 'a\\x1b]0;pwned\\x07' holds a space or a control character"),
    ("date: 2026-03-12\npapers:\n- title: T\n  abstract: A.\n  upvotes: " + "9" * 5000 + "\n",
     "a value cannot be read"),
])
def test_a_hostile_archive_day_is_one_line(project, capsys, text, says):
    path = project / "content" / "digests" / f"{text[6:16]}.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "list")
    assert code == 1 and out == "" and err.count("\n") == 1, err
    assert says in err and "\x1b" not in err and "\x07" not in err


def test_a_nul_byte_in_an_archive_day_is_named_as_such(project, capsys):
    path = project / "content" / "digests" / "2026-03-11.yaml"
    data = path.read_bytes()
    path.write_bytes(data[:5000] + b"\x00" + data[5000:])
    code, _, err = run(capsys, "list")
    line = data[:5000].count(b"\n") + 1
    assert (code, err) == (1, f"content/digests/2026-03-11.yaml:{line}: a NUL byte (0x00) here: "
                              "text files hold none - remove it (the file may be damaged), or "
                              "save it again as text\n")


def test_nothing_an_archive_says_reaches_the_terminal_as_a_control_sequence():
    from generator.cli import terminal_text
    assert terminal_text("a\x1b]0;title\x07b\x00c\u202ed") == "a\\x1b]0;title\\x07b\\x00c\\u202ed"
    assert terminal_text("line one\nline two") == "line one\nline two"


def test_a_taxonomy_id_ending_in_a_line_break_is_refused(project, capsys):
    taxonomy = project / "content" / "taxonomy.yaml"
    text = taxonomy.read_text(encoding="utf-8")
    taxonomy.write_text(text.replace("- id: robotics\n", '- id: "robotics\\n"\n', 1),
                        encoding="utf-8")
    code, _, err = run(capsys, "build")
    assert code == 1 and "tag id 'robotics\\n' is not lowercase words joined by hyphens" in err


def test_a_fullwidth_arxiv_id_is_no_arxiv_id():
    from generator.records import normalise_arxiv_id
    assert normalise_arxiv_id("2502.00001") == "2502.00001"
    for fake in ("\uff12\uff15\uff10\uff12.\uff10\uff10\uff10\uff10\uff11",  # fullwidth
                 "\u0662\u0665\u0660\u0662.\u0660\u0660\u0660\u0660\u0661",  # Arabic-Indic
                 "\u0968\u096b\u0966\u0968.\u0966\u0966\u0966\u0966\u0967"):  # Devanagari
        assert normalise_arxiv_id(fake) is None


@pytest.mark.parametrize("content, says", [
    (b"site_name: \xff\n", "mkdocs.yml:1: not UTF-8: byte 0xFF here - save the file as UTF-8"),
    (b"a: " + b"[" * 100_000, "mkdocs.yml:1: nested too deeply, or a number too long, to read"),
    (b"site_nam: Digest\nsite_url: https://x.org/\n",
     "mkdocs.yml:1: unknown setting 'site_nam' - did you mean 'site_name'?"),
    (b"site_name: D\nsite_url: 'https://x.org/ a/'\n", "mkdocs.yml:2: site_url must be an "
     "absolute http(s) URL, got 'https://x.org/ a/'"),
    (b"site_name: D\nsite_url: https://x.org/?a=1\n", "mkdocs.yml:2: site_url must be an "
     "absolute http(s) URL, got 'https://x.org/?a=1'"),
    (b"site_name: D\nsite_url: https:///path/\n", "mkdocs.yml:2: site_url must be"),
])
def test_a_bad_config_names_the_mistake(project, capsys, content, says):
    (project / "mkdocs.yml").write_bytes(content)
    code, _, err = run(capsys, "build")
    assert code == 1 and err.splitlines()[0].startswith(says), err


def test_training_where_the_model_cannot_be_written_is_one_line(project, capsys, monkeypatch):
    import errno
    import os

    from generator import commands

    def read_only(path, data):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(commands, "replace_bytes", read_only)
    before = snapshot(project / "content")
    code, _, err = run(capsys, "tags", "--train", str(DATA / "labels" / "seeds.jsonl"))
    assert code == 1 and err.count("\n") == 1
    assert "cannot write the topic model: Read-only file system" in err
    assert snapshot(project / "content") == before


def test_list_after_a_build_reads_neither_the_yaml_nor_the_model_again(project, capsys,
                                                                      monkeypatch):
    """After a build, list takes parsed days and tags from the build cache: no archive file
    is parsed and the topic model is not read; a day added since is parsed, and weighed
    where the listing shows tags (--json; the plain list needs none)."""
    from generator import topicmodel
    from generator.ingest import yaml_records
    code, _, err = run(capsys, "build", "--site-url", "http://127.0.0.1:1/")
    assert code == 0, err
    code, listed, _ = run(capsys, "list")
    calls = {"parse": 0, "model": 0}
    parse, load_model = yaml_records.parse_yaml, topicmodel.load_model

    def counted(name, real):
        def call(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return call
    monkeypatch.setattr("generator.archive.parse_yaml", counted("parse", parse))
    monkeypatch.setattr(topicmodel, "load_model", counted("model", load_model))
    code, again, _ = run(capsys, "list")
    assert (code, again, calls) == (0, listed, {"parse": 0, "model": 0})
    day = project / "content" / "digests" / "2026-05-01.yaml"
    day.write_text("date: 2026-05-01\npapers:\n- title: Transfer learning made simple\n"
                   "  abstract: We fine-tune a pretrained model on a new task.\n",
                   encoding="utf-8")
    code, _, _ = run(capsys, "list")
    assert code == 0 and calls == {"parse": 1, "model": 0}
    code, _, _ = run(capsys, "list", "--json")
    assert code == 0 and calls == {"parse": 1, "model": 1}  # the day parsed once, kept


def test_serve_shows_the_last_build_at_once_and_then_its_own(project, tmp_path):
    """`digest serve` of a built site made its own build first (39 s on the real corpus)
    and answered nothing until then: now the built site answers at once, and the page
    served after the rebuild is the one built for 127.0.0.1."""
    import os
    import queue
    import signal
    import socket
    import threading
    import urllib.request

    from conftest import build_project
    build_project(project, "https://example.org/digest/")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    go = tmp_path / "go"
    # The serve's own build waits for a file, so that the test sees both moments.
    script = ("import pathlib, sys, time\n"
              "import generator.build as b\n"
              "real = b.build\n"
              "def held(*args, **kwargs):\n"
              "    while not pathlib.Path(sys.argv[2]).exists():\n"
              "        time.sleep(0.05)\n"
              "    return real(*args, **kwargs)\n"
              "b.build = held\n"
              "from generator.cli import run\n"
              "sys.exit(run(['serve', '--port', sys.argv[1]]))\n")
    process = subprocess.Popen([sys.executable, "-c", script, str(port), str(go)],
                               cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "CI": "true"})
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout],
                     daemon=True).start()

    def home() -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
            return answer.read()

    try:
        first = lines.get(timeout=60)
        assert first.startswith("Serving the last build, site/, on http://127.0.0.1:"), first
        assert home() == (project / "site" / "index.html").read_bytes()
        go.touch()
        while not (line := lines.get(timeout=120)).startswith("Serving "):
            assert line.startswith("Built "), line
        assert line.startswith(f"Serving {Path('build', 'serve', 'site')}/ on "), line
        own = project / "build" / "serve" / "site" / "index.html"
        assert home() == own.read_bytes() != (project / "site" / "index.html").read_bytes()
        assert f"http://127.0.0.1:{port}/".encode() in own.read_bytes()
    finally:
        go.touch()
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 0 and "Traceback" not in err, err
