"""The command line: help for every command, exact error lines, exit codes, no tracebacks."""

from __future__ import annotations

import json
import re
import subprocess
import sys

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


def test_a_bad_date_option_is_a_usage_error(project, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["ingest", "x.txt", "--date", "11/03/2026"])
    assert exit_.value.code == 2
    assert "'11/03/2026' is not a date; write it as YYYY-MM-DD" in capsys.readouterr().err


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
    assert "Topic model: fitted on 584 labelled papers" in out
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
    assert not (project / "build").exists() and not (project / "site").exists()


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
    assert code == 0 and "changed pages rebuilt" in out


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
