"""A new digest of one's own (``digest init``): the files a project starts from.

A project is a folder with ``mkdocs.yml`` (the site's name and address), ``content/`` (an
empty archive, the topics and their fitted model, which the owner may edit), the publish
workflow, ``requirements.txt`` (which paper-digest the workflow installs) and a
``.gitignore``. Templates stay in the package unless the project has a ``templates/`` of its
own. Nothing of the sample archive is copied: the first fetch is the first digest.

Every file is created only where none is (a ``.gitignore`` gets the missing lines added);
if any file cannot be written, the ones written are removed again.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from pathlib import Path

import yaml

from generator import __version__
from generator.config import PLACEHOLDER_URL, data_root, is_site_url, load_config
from generator.errors import ConfigError, DigestError

WORKFLOW = Path(".github/workflows/publish.yml")
#: In the repository's own workflow, which installs the checkout, and what a project's
#: workflow does instead (install what requirements.txt names).
_WORKFLOW_CHANGES = (
    ("python -m pip install -e .", "python -m pip install -r requirements.txt"),
    ("cache-dependency-path: pyproject.toml", "cache-dependency-path: requirements.txt"),
    ("'templates/**', 'pyproject.toml'", "'templates/**', 'requirements.txt'"),
)
#: What a project keeps out of git: what a build and a virtual environment leave.
IGNORED = ("/site/", "/build/", "/.site.new/", "/.site.old/", ".*.lock", ".*.lock.holder",
           "/content/.lock", "/content/.lock.holder", "/content/digests/.*.tmp", ".venv/",
           "__pycache__/", "/.zensical.yml", "/.cache/")


def workflow_text() -> str:
    """The publish workflow for a project: the repository's own, installing the package
    that requirements.txt names instead of a checkout of paper-digest."""
    text = (data_root() / WORKFLOW).read_text(encoding="utf-8")
    for old, new in _WORKFLOW_CHANGES:
        if old not in text:  # the repository's workflow changed: this must follow it
            raise DigestError(f"the publish workflow has no '{old}' to adapt", path=WORKFLOW,
                              fix="report it: digest init and the workflow disagree")
        text = text.replace(old, new)
    return text


def package_spec() -> str:
    """What the project's workflow installs: this paper-digest at its commit when it runs
    from a git checkout with a GitHub remote, else this version from PyPI."""
    root = Path(__file__).resolve().parent.parent
    if (root / ".git").exists():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            remote, commit = (subprocess.run(
                ["git", "-C", str(root), *command], capture_output=True, text=True,
                timeout=10, check=True).stdout.strip()
                for command in (("remote", "get-url", "origin"), ("rev-parse", "HEAD")))
            match = re.fullmatch(r"(?:https://github\.com/|git@github\.com:)"
                                 r"([\w.-]+/[\w.-]+?)(?:\.git)?", remote)
            if match and re.fullmatch(r"[0-9a-f]{40}", commit):
                return f"paper-digest @ git+https://github.com/{match[1]}@{commit}"
    return f"paper-digest=={__version__}"


def _yaml_scalar(value: str) -> str:
    return yaml.safe_dump(value, allow_unicode=True, default_style='"',
                          width=10**6).removesuffix("\n...\n").strip()


def _check(name: str, site_url: str | None) -> None:
    if not name.strip() or len(name) > 200 or any(c in name for c in "\r\n\x00"):
        raise ConfigError("the site name must be one line of 1 to 200 characters",
                          path=Path("--name"), fix="pass e.g. --name 'My paper digest'")
    if site_url is not None and not is_site_url(site_url):
        raise ConfigError(f"not an http(s) address of a site: {site_url!r}",
                          path=Path("--site-url"),
                          fix="pass e.g. --site-url https://you.github.io/digest/")


def project_files(name: str, site_url: str | None) -> dict[str, bytes]:
    """The files of a new project (path -> bytes), .gitignore aside."""
    _check(name, site_url)
    config = (data_root() / "mkdocs.yml").read_text(encoding="utf-8")
    url = site_url.rstrip("/") + "/" if site_url else PLACEHOLDER_URL
    for key, value in (("site_name", name.strip()), ("site_url", url)):
        config, found = re.subn(rf"^{key}: .*$", lambda _m, k=key, v=value:
                                f"{k}: {_yaml_scalar(v)}", config, count=1, flags=re.M)
        assert found == 1, key
    sample = data_root() / "content"
    return {
        "mkdocs.yml": config.encode("utf-8"),
        "content/taxonomy.yaml": (sample / "taxonomy.yaml").read_bytes(),
        "content/topic-model.json": (sample / "topic-model.json").read_bytes(),
        # Kept by git, so that a fresh clone has the folder the archive is written to.
        "content/digests/.gitkeep": b"",
        str(WORKFLOW): workflow_text().encode("utf-8"),
        "requirements.txt": (
            "# What the publish workflow installs: paper-digest, at a version or commit you\n"
            "# chose (a git URL works: paper-digest @ git+https://github.com/OWNER/REPO@REF).\n"
            f"{package_spec()}\n").encode(),
    }


def init_project(folder: Path, *, name: str, site_url: str | None) -> list[str]:
    """Write a new project into ``folder`` (made if missing); the lines to print."""
    folder = Path(folder)
    files = project_files(name, site_url)
    if folder.exists() and not folder.is_dir():
        raise DigestError("not a folder", path=folder, fix="pass a new or empty folder")
    taken = [path for path in files if (folder / path).exists() or (folder / path).is_symlink()]
    if not taken and (folder / "content").is_dir() and any((folder / "content").iterdir()):
        taken.append("content/")
    if taken:
        raise DigestError(f"{', '.join(sorted(set(taken)))} already there: a project is "
                          "started only once", path=folder,
                          fix="pass a new folder, or move those away (nothing was written)")
    made: list[Path] = []
    try:
        for path, data in files.items():
            target = folder / path
            for parent in reversed(target.relative_to(folder).parents):
                if not (folder / parent).is_dir():
                    (folder / parent).mkdir(parents=True)
                    made.append(folder / parent)
            with open(target, "xb") as out:  # never over a file that appeared meanwhile
                made.append(target)
                out.write(data)
        load_config(folder / "mkdocs.yml")  # what was written reads back as written
        ignore = folder / ".gitignore"
        had = ignore.read_text(encoding="utf-8") if ignore.is_file() else None
        missing = [line for line in IGNORED if line not in (had or "").splitlines()]
        if missing:
            addition = ("" if not had else "\n" if had.endswith("\n") else "\n\n") + \
                "# Left by digest build and a local virtual environment.\n" + \
                "\n".join(missing) + "\n"
            with open(ignore, "x" if had is None else "a", encoding="utf-8") as out:
                if had is None:
                    made.append(ignore)
                out.write(addition)
    except BaseException as exc:
        for path in reversed(made):
            with contextlib.suppress(OSError):
                path.rmdir() if path.is_dir() else os.unlink(path)
        if isinstance(exc, OSError):
            raise DigestError(f"cannot write the project: {exc.strerror or exc}",
                              path=Path(exc.filename or folder),
                              fix="check free space and permissions; nothing was kept") from exc
        raise
    where = "." if folder.resolve() == Path.cwd().resolve() else str(folder)
    lines = [f"Started a digest in {where}: mkdocs.yml, content/ (an empty archive, the "
             "topics and their model), .github/workflows/publish.yml, requirements.txt, "
             ".gitignore."]
    if site_url is None:
        lines.append("site_url is the example's: pass --site-url to digest build, or set it "
                     "in mkdocs.yml (the publish workflow passes GitHub Pages' address).")
    if files["requirements.txt"].decode().rstrip().endswith(f"=={__version__}"):
        lines.append(f"requirements.txt asks PyPI for paper-digest=={__version__}: if your "
                     "copy is not published there, put its git URL in that file.")
    cd = "" if where == "." else f"cd {where} && "
    lines.append(f"Next: {cd}digest fetch && digest build; then push it to GitHub and set "
                 "Settings > Pages > Source to GitHub Actions.")
    return lines
