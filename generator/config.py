"""The site config -> one validated object; every bad key is reported at once.

The config is the project's ``mkdocs.yml``: MkDocs users edit one file, and MkDocs' own keys
(``site_name``, ``site_url``, the theme) are read from it as MkDocs reads them. paper-digest's
own settings live under ``extra: digest:`` and are documented where they are declared below.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from generator.errors import ConfigError, raise_all
from generator.yamlfile import did_you_mean


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
    # The last line of every email of `digest email`: how to stop receiving it. A URL or
    # mailto: address in it also becomes the message's List-Unsubscribe header.
    "email_unsubscribe": "To stop receiving this digest, reply to this email.",
    # Each card shows the paper's thumbnail from Hugging Face's servers: off by default, so
    # that reading the site sends no request to anyone but its host.
    "thumbnails": False,
}


@dataclass(frozen=True)
class CustomFeed:
    """A feed of the papers that match a query, defined under ``extra.digest.feeds``."""

    #: Its permanent name in URLs (``feeds/<id>/feed.xml``): lowercase words and hyphens.
    id: str
    title: str
    #: Papers of any of these topics (none: every topic).
    topics: tuple[str, ...] = ()
    #: Words that must all stand in the title or the abstract (case ignored).
    words: tuple[str, ...] = ()
    #: At least this many upvotes.
    min_upvotes: int = 0
    #: Only papers with a code link.
    has_code: bool = False
    #: Where it is defined, for messages.
    line: int = field(default=1, compare=False)

    def describe(self) -> str:
        parts = []
        if self.topics:
            parts.append("topics: " + ", ".join(self.topics))
        if self.words:
            parts.append("words: " + ", ".join(self.words))
        if self.min_upvotes:
            parts.append(f"at least {self.min_upvotes} upvotes")
        if self.has_code:
            parts.append("with code")
        return "; ".join(parts) or "every paper"


#: The keys of a custom feed and the type of each.
FEED_KEYS = {"id": str, "title": str, "topics": list, "words": list, "min_upvotes": int,
             "has_code": bool}


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
    email_unsubscribe: str
    #: Whether cards show the API's thumbnails (loaded from Hugging Face).
    thumbnails: bool
    #: Folder of the Jinja2 Markdown templates.
    templates: Path
    #: Feeds of the owner's own queries (``extra.digest.feeds``).
    custom_feeds: tuple[CustomFeed, ...] = ()

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


def read_mkdocs_yml(path: Path) -> dict:
    """mkdocs.yml as data (MkDocs-only tags read as plain values); a file that cannot be read
    is one ConfigError with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise ConfigError(f"not UTF-8: byte 0x{exc.object[exc.start]:02X} here", path=path,
                          line=line, fix="save the file as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path=path,
                          fix="check the file and its permissions") from exc
    try:
        data = yaml.load(text, Loader=_TolerantLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", path=path,
                          line=mark.line + 1 if mark else 1, fix="correct the YAML syntax") from exc
    except (RecursionError, ValueError) as exc:
        raise ConfigError("nested too deeply, or a number too long, to read", path=path,
                          line=1, fix="this is not a site config; check the file") from exc
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping", path=path, line=1, fix="see the MkDocs docs")
    return data


#: The settings MkDocs knows at the top of mkdocs.yml (``mkdocs.config.defaults``), and
#: MkDocs' ``INHERIT``: anything else is a misspelling.
MKDOCS_KEYS = ("INHERIT", "config_file_path", "copyright", "dev_addr", "docs_dir", "draft_docs",
               "edit_uri", "edit_uri_template", "exclude_docs", "extra", "extra_css",
               "extra_javascript", "extra_templates", "google_analytics", "hooks",
               "markdown_extensions", "mdx_configs", "nav", "not_in_nav", "pages", "plugins",
               "remote_branch", "remote_name", "repo_name", "repo_url", "site_author",
               "site_description", "site_dir", "site_name", "site_url", "strict", "theme",
               "use_directory_urls", "validation", "watch")


def is_site_url(url: object) -> bool:
    """Whether ``url`` is the address of a site: absolute http(s), a host, no query, fragment
    or white space (feeds and the sitemap put it before every path)."""
    if not isinstance(url, str) or any(c.isspace() for c in url):
        return False
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host) and not parts.query \
        and not parts.fragment


def load_config(config_file: Path | None = None, site_url: str | None = None) -> Config:
    """Read mkdocs.yml (the project's, else the embedded default) into a Config.

    ``site_url`` overrides the file's, e.g. the Pages URL in the publish workflow."""
    path = Path(config_file) if config_file else default_config_file()
    if not path.is_file():
        raise ConfigError("no such config file", path=path,
                          fix="pass --config mkdocs.yml, or run from the project folder")
    data = read_mkdocs_yml(path)
    errors: list[ConfigError] = []
    for key in data:
        if key not in MKDOCS_KEYS:
            errors.append(ConfigError(f"unknown setting '{key}'", path=path,
                                      line=_line_of(path, str(key)),
                                      fix=did_you_mean(key, MKDOCS_KEYS)))
    extra = data.get("extra") or {}
    digest = extra.get("digest") if isinstance(extra, dict) else None
    digest = digest if isinstance(digest, dict) else {}
    values = dict(DIGEST_DEFAULTS)
    custom_feeds = _custom_feeds(digest.get("feeds"), path, errors)
    for key, value in digest.items():
        if key == "feeds":
            continue
        if key not in DIGEST_DEFAULTS:
            errors.append(ConfigError(f"unknown setting extra.digest.{key}", path=path,
                                      line=_line_of(path, key),
                                      fix="known: " + ", ".join([*DIGEST_DEFAULTS, "feeds"])))
        elif type(value) is not type(DIGEST_DEFAULTS[key]) or (
                type(value) is int and value < 1):
            kind = {bool: "true or false", int: "a whole number from 1"}.get(
                type(DIGEST_DEFAULTS[key]), "text")
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
    if url is not None and not is_site_url(url):
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
                  custom_feeds=custom_feeds, **values)


def _custom_feeds(value: object, path: Path, errors: list) -> tuple[CustomFeed, ...]:
    """``extra.digest.feeds``: a list of queries, each checked; topics are checked against
    the taxonomy by the build (``check_feed_topics``)."""
    if value is None:
        return ()
    line = _line_of(path, "feeds")
    if not isinstance(value, list):
        errors.append(ConfigError("extra.digest.feeds must be a list of feeds", path=path,
                                  line=line, fix="write each as '- id: ...' with a title"))
        return ()
    feeds, seen = [], set()
    for number, item in enumerate(value, start=1):
        where = _line_of(path, f"- id: {item.get('id')}") if isinstance(item, dict) else line
        where = where if where > 1 else line

        def problem(message: str, fix: str, where: int = where, number: int = number) -> None:
            errors.append(ConfigError(f"extra.digest.feeds, feed {number}: {message}", path=path,
                                      line=where, fix=fix))

        if not isinstance(item, dict):
            problem("not a mapping", "write it as '- id: my-feed' with 'title:' and a query")
            continue
        for key in item:
            if key not in FEED_KEYS:
                problem(f"unknown key '{key}'", "known: " + ", ".join(FEED_KEYS))
        kinds_ok = True
        for key, kind in FEED_KEYS.items():
            got = item.get(key)
            if got is not None and (not isinstance(got, kind) or (kind is int and (
                    isinstance(got, bool) or got < 0))):
                problem(f"'{key}' must be {kind.__name__}, got {got!r}",
                        f"correct '{key}' or remove it")
                kinds_ok = False
        feed_id, title = item.get("id"), item.get("title")
        if not isinstance(feed_id, str) or not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", feed_id):
            problem(f"id {feed_id!r} is not lowercase words joined by hyphens",
                    "write it like 'diffusion-with-code'")
            continue
        if feed_id in seen:
            problem(f"the id '{feed_id}' is used twice", "give every feed its own id")
        seen.add(feed_id)
        if not isinstance(title, str) or not title.strip():
            problem("it has no title", "add 'title: What readers see'")
        lists = {k: item.get(k) or [] for k in ("topics", "words")}
        for key, items in lists.items():
            if isinstance(items, list) and not all(isinstance(x, str) and x.strip()
                                                   for x in items):
                problem(f"'{key}' must be a list of text", f"write it as {key}: [a, b]")
                kinds_ok = False
        if kinds_ok and isinstance(title, str) and title.strip():
            feeds.append(CustomFeed(id=feed_id, title=title.strip(),
                                    topics=tuple(lists["topics"]),
                                    words=tuple(w.strip() for w in lists["words"]),
                                    min_upvotes=item.get("min_upvotes") or 0,
                                    has_code=bool(item.get("has_code")), line=where))
    return tuple(feeds)


def _line_of(path: Path, key: str) -> int:
    """The first line that starts with ``key:`` (or is ``key``, for "- id: x"), else 1."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if text.startswith(f"{key}:") or text == key:
            return number
    return 1

