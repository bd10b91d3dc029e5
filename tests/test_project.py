"""`digest init`: a digest of one's own, with nothing of the sample in it."""

from __future__ import annotations

import builtins
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, snapshot
from generator.cli import main
from generator.config import load_config

URL = "https://you.example.org/digest/"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_writes_a_project_whose_first_build_holds_no_sample_paper(tmp_path, capsys,
                                                                        monkeypatch):
    name = 'Ada\'s "papers": <b>#1</b> & {{ x }} — ✓'
    code, out, err = run(capsys, "init", str(tmp_path / "mine"), "--name", name,
                         "--site-url", URL.rstrip("/"))
    assert (code, err) == (0, "")
    assert out.startswith(f"Started a digest in {tmp_path / 'mine'}: mkdocs.yml, content/")
    project = tmp_path / "mine"
    assert sorted(snapshot(project)) == [
        ".github/workflows/publish.yml", ".gitignore", "content/digests/.gitkeep",
        "content/taxonomy.yaml", "content/topic-model.json", "mkdocs.yml", "requirements.txt"]
    config = load_config(project / "mkdocs.yml")
    assert (config.site_name, config.site_url) == (name, URL)
    # The rest of the config is the sample's, comments and all.
    ours = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").splitlines()
    theirs = (project / "mkdocs.yml").read_text(encoding="utf-8").splitlines()
    assert [a for a, b in zip(ours, theirs, strict=True) if a != b] == [
        line for line in ours if line.startswith(("site_name:", "site_url:"))]
    assert (project / "content" / "taxonomy.yaml").read_bytes() == \
        (ROOT / "content" / "taxonomy.yaml").read_bytes()
    assert ".venv/" in (project / ".gitignore").read_text().splitlines()
    monkeypatch.chdir(project)
    code, out, err = run(capsys, "build")
    assert code == 0, err
    assert out.startswith("Built site/ from 0 papers in 0 digests")
    home = (project / "site" / "index.html").read_text(encoding="utf-8")
    assert "No digest has arrived yet" in home
    assert "&lt;b&gt;#1&lt;/b&gt;" in home and "<b>#1</b>" not in home
    assert not list((project / "site").glob("papers/*/"))


def test_the_projects_workflow_installs_what_requirements_txt_names():
    from generator.project import workflow_text
    ours = (ROOT / ".github" / "workflows" / "publish.yml").read_text(encoding="utf-8")
    theirs = workflow_text()
    changed = [(a.strip(), b.strip()) for a, b in
               zip(ours.splitlines(), theirs.splitlines(), strict=True) if a != b]
    assert changed and all("pyproject.toml" in a or "install -e ." in a for a, _ in changed)
    assert "pip install -e" not in theirs and "pyproject.toml" not in theirs
    assert theirs.count("python -m pip install -r requirements.txt") == 2
    assert yaml.safe_load(theirs)["jobs"].keys() == yaml.safe_load(ours)["jobs"].keys()


def test_the_projects_workflow_validates_against_the_github_workflow_schema(tmp_path):
    from generator.project import workflow_text
    (tmp_path / "publish.yml").write_text(workflow_text(), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         str(tmp_path / "publish.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_init_twice_is_refused_and_changes_nothing(tmp_path, capsys):
    assert run(capsys, "init", str(tmp_path))[0] == 0
    (tmp_path / "content" / "digests" / "2026-03-06.yaml").write_text("date: 2026-03-06\n")
    before = snapshot(tmp_path)
    code, out, err = run(capsys, "init", str(tmp_path), "--name", "Other")
    assert (code, out) == (1, "")
    assert err.startswith(f"{tmp_path}: .github/workflows/publish.yml, content/digests/.gitkeep,")
    assert "already there: a project is started only once - pass a new folder" in err
    assert snapshot(tmp_path) == before


def test_init_beside_a_repositorys_files_keeps_them_and_adds_to_its_gitignore(tmp_path, capsys):
    (tmp_path / "README.md").write_text("# mine\n")
    (tmp_path / ".gitignore").write_text("*.pyc\n/site/")  # no final line break
    assert run(capsys, "init", str(tmp_path))[0] == 0
    assert (tmp_path / "README.md").read_text() == "# mine\n"
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[:2] == ["*.pyc", "/site/"] and lines.count("/site/") == 1
    assert {".venv/", "/build/"} <= set(lines)


def test_init_that_cannot_write_every_file_leaves_the_folder_as_it_was(tmp_path, capsys,
                                                                       monkeypatch):
    (tmp_path / "README.md").write_text("# mine\n")
    real_open, opened = builtins.open, []

    def failing_open(path, mode="r", *args, **kwargs):
        if "x" in mode:
            opened.append(path)
            if len(opened) == 4:
                raise OSError(28, "No space left on device", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", failing_open)
    code, _out, err = run(capsys, "init", str(tmp_path))
    assert code == 1
    assert err.endswith(": cannot write the project: No space left on device - check free "
                        "space and permissions; nothing was kept\n")
    assert snapshot(tmp_path) == {"README.md": b"# mine\n"}
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]


@pytest.mark.parametrize("argv, says", [
    (["--site-url", "ftp://x.org/"], "--site-url: not an http(s) address of a site: "
                                     "'ftp://x.org/' - pass e.g. --site-url"),
    (["--site-url", "https:///nohost"], "--site-url: not an http(s) address"),
    (["--name", "two\nlines"], "--name: the site name must be one line of 1 to 200 characters"),
    (["--name", "  "], "--name: the site name must be one line"),
])
def test_init_with_a_bad_name_or_address_is_one_line_and_writes_nothing(tmp_path, capsys,
                                                                        argv, says):
    code, out, err = run(capsys, "init", str(tmp_path / "new"), *argv)
    assert (code, out) == (1, "")
    assert err.startswith(says) and err.count("\n") == 1
    assert not (tmp_path / "new").exists()
