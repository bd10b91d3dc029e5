"""The site config -> one validated object; every bad key is reported at once.

The config is the project's ``mkdocs.yml``: MkDocs users edit one file, and MkDocs' own keys
(``site_name``, ``site_url``, the theme) are read from it as MkDocs reads them. paper-digest's
own settings live under ``extra: digest:`` and are documented where they are declared below.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from generator.errors import ConfigError, raise_all


def data_root() -> Path:
    """Where the embedded sample archive, templates and default ``mkdocs.yml`` live: inside the
    installed wheel (``generator/_data``), or the repository root in a source checkout."""
    packaged = Path(__file__).parent / "_data"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent


#: The site_url of the example config: a site built with it has feeds that point nowhere.
PLACEHOLDER_URL = "https://example.github.io/paper-digest/"

#: paper-digest's settings under ``extra: digest:`` in mkdocs.yml, with their defaults.
DIGEST_DEFAULTS = {
    # The Hugging Face daily-papers API that `digest fetch` asks.
    "api_url": "https://huggingface.co/api/daily_papers",
    # How many of the newest papers the main and per-tag feeds carry.
    "feed_items": 50,
    # How many digest days the digest feed carries.
    "digest_feed_items": 30,
    # How many related papers a paper page lists.
    "related_papers": 5,
    # How many earlier digests the home page links to.
    "home_digests": 10,
}


@dataclass(frozen=True)
class Config:
    #: The mkdocs.yml in use.
    config_file: Path
    #: Where the generated Markdown and feeds go (MkDocs' docs_dir).
    docs_dir: Path
    site_name: str
    #: Absolute URL of the published site, ending in "/"; feeds need it.
    site_url: str | None
    site_description: str
    api_url: str
    feed_items: int
    digest_feed_items: int
    related_papers: int
    home_digests: int
    #: Folder of the Jinja2 Markdown templates.
    templates: Path

    @property
    def cache_dir(self) -> Path:
        """What a rebuild reuses: the search indexes and what the last site was built from.
        Beside docs_dir (build/docs-cache for build/docs); deleting it only makes the next
        build a full one."""
        return self.docs_dir.with_name(self.docs_dir.name + "-cache")


class _TolerantLoader(yaml.SafeLoader):
    """Reads mkdocs.yml with its MkDocs-only tags (!ENV, !!python/name:...) as plain values."""


def _unknown_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_TolerantLoader.add_multi_constructor("!", _unknown_tag)
_TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", _unknown_tag)


def default_config_file() -> Path:
    local = Path("mkdocs.yml")
    return local if local.is_file() else data_root() / "mkdocs.yml"


def default_content_dir() -> Path:
    local = Path("content")
    return local if local.is_dir() else data_root() / "content"


def load_config(config_file: Path | None = None, site_url: str | None = None) -> Config:
    """Read mkdocs.yml (the project's, else the embedded default) into a Config.

    ``site_url`` overrides the file's, e.g. the Pages URL in the publish workflow."""
    path = Path(config_file) if config_file else default_config_file()
    if not path.is_file():
        raise ConfigError("no such config file", path=path,
                          fix="pass --config mkdocs.yml, or run from the project folder")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_TolerantLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", path=path,
                          line=mark.line + 1 if mark else 1, fix="correct the YAML syntax") from exc
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping", path=path, line=1, fix="see the MkDocs docs")
    errors: list[ConfigError] = []
    extra = data.get("extra") or {}
    digest = extra.get("digest") if isinstance(extra, dict) else None
    digest = digest if isinstance(digest, dict) else {}
    values = dict(DIGEST_DEFAULTS)
    for key, value in digest.items():
        if key not in DIGEST_DEFAULTS:
            errors.append(ConfigError(f"unknown setting extra.digest.{key}", path=path,
                                      line=_line_of(path, key),
                                      fix="known: " + ", ".join(DIGEST_DEFAULTS)))
        elif type(value) is not type(DIGEST_DEFAULTS[key]) or (isinstance(value, int)
                                                                and value < 1):
            kind = "a whole number from 1" if isinstance(DIGEST_DEFAULTS[key], int) else "text"
            errors.append(ConfigError(f"extra.digest.{key} must be {kind}, got {value!r}",
                                      path=path, line=_line_of(path, key),
                                      fix=f"set it to e.g. {DIGEST_DEFAULTS[key]!r}"))
        else:
            values[key] = value
    name = data.get("site_name")
    if not isinstance(name, str) or not name.strip():
        errors.append(ConfigError("site_name is missing", path=path, line=1,
                                  fix="add 'site_name: My paper digest'"))
    url = site_url or data.get("site_url")
    if url is not None and (not isinstance(url, str)
                            or not url.startswith(("http://", "https://"))):
        errors.append(ConfigError(f"site_url must be an absolute http(s) URL, got {url!r}",
                                  path=path, line=_line_of(path, "site_url"),
                                  fix="set it like 'site_url: https://you.github.io/digest/'"))
        url = None
    raise_all(errors)
    if url and not url.endswith("/"):
        url += "/"
    embedded = path.resolve() == (data_root() / "mkdocs.yml").resolve()
    # The embedded config's folders are inside the installed package: write beside the
    # user instead.
    docs_dir = Path("build/docs") if embedded and not Path("mkdocs.yml").is_file() \
        else path.parent / str(data.get("docs_dir") or "docs")
    # A project's own templates (beside its mkdocs.yml) win over the embedded ones.
    templates = path.parent / "templates"
    return Config(config_file=path, docs_dir=docs_dir, site_name=name.strip(), site_url=url,
                  site_description=str(data.get("site_description") or ""),
                  templates=templates if templates.is_dir() else data_root() / "templates",
                  **values)


def _line_of(path: Path, key: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip().startswith(f"{key}:"):
            return number
    return 1

