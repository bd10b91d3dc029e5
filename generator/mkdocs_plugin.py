"""The ``paper-digest`` MkDocs plugin: the theme's stylesheets for our page template, and pages
without the indentation of templates.

Our page (templates/theme/main.html) lists ``extra_css`` only: the plugin puts Material's own
stylesheets first (their names carry a hash that changes with Material's version), so that
``mkdocs build`` and ``mkdocs serve`` work as ``digest build`` does. Each line's leading white
space goes (a line break stays, so no two words join); a page with preformatted text is left
as it is. A page's Markdown source is dropped once it is converted (MkDocs holds every page in
memory until the end).

Our pages are mostly raw HTML, which Python-Markdown passes through as it is, after parsing it
twice (its own raw-HTML preprocessor, and MkDocs' one that collects ids): most of what a build
spends in MkDocs. Each block of a page made of whole HTML elements (each from ``<div`` at the
start of a line to its own ``</div>`` at the end of one) is taken out before Markdown and put
back into its output, so that only the rest (headings, the odd list) is parsed; the page is the
same but for blank lines between blocks, which ``compact`` removes anyway (so a page with
preformatted text is left to Markdown whole). ``tests/test_site.py`` builds the sample both
ways and compares every byte.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from mkdocs.plugins import BasePlugin

_INDENT = re.compile(r"\n[ \t]*(?:\n[ \t]*)*")


def compact(html: str) -> str:
    if "<pre" in html or "<textarea" in html:
        return html
    return _INDENT.sub("\n", html)


#: Elements that Python-Markdown takes as raw HTML blocks and that our pages are made of.
_BLOCKS = ("div", "ol", "ul", "p", "details", "figure", "nav", "section", "table", "form",
           "h1", "h2", "h3", "noscript")
_START = re.compile(r"<(" + "|".join(_BLOCKS) + r")[\s>]")
_BLANK = re.compile(r"\n[ \t]*\n")


def _whole_elements(block: str) -> bool:
    """Whether ``block`` is HTML elements one after another, each from the start of a line
    (a tag of :data:`_BLOCKS`) to the end of a line where that tag is closed as often as it
    was opened."""
    at = 0
    while at < len(block):
        start = _START.match(block, at)
        if start is None:
            return False
        tag, depth, end = start.group(1), 0, None
        for found in re.compile(rf"<(/?){tag}[\s>]").finditer(block, at):
            depth += -1 if found.group(1) else 1
            if depth == 0:
                end = found.end()
                break
        if end is None or block[end - 1] != ">" or (end < len(block) and block[end] != "\n"):
            return False
        at = end + 1
    return True


def lift_html(markdown: str) -> tuple[str, dict[str, str]]:
    """``markdown`` with each block made of whole HTML elements (see ``_whole_elements``)
    replaced by a placeholder paragraph, and the blocks by placeholder. The placeholders hold
    a hash of the page, which no text of the page can hold."""
    if "<pre" in markdown or "<textarea" in markdown:
        return markdown, {}
    nonce = "pd" + hashlib.sha256(markdown.encode()).hexdigest()[:16]
    lifted: dict[str, str] = {}
    blocks = []
    for block in _BLANK.split(markdown):
        html = block.strip("\n")
        if _whole_elements(html):
            block = f"{nonce}x{len(lifted)}"
            lifted[block] = html
        blocks.append(block)
    return "\n\n".join(blocks), lifted


def put_back(html: str, lifted: dict[str, str]) -> str:
    if not lifted:
        return html
    nonce = next(iter(lifted)).partition("x")[0]
    return re.sub(rf"<p>({nonce}x\d+)</p>", lambda found: lifted[found.group(1)], html)


#: A block of plain words that Python-Markdown makes a heading of (levels 2 to 6: a page's
#: first-level heading gives it its title, so it goes through Markdown).
_HEADING = re.compile(r"(#{2,6}) ([A-Za-z0-9]+(?: [A-Za-z0-9]+)*)")
#: The Markdown settings ``headings_only`` knows the output of: MkDocs' defaults and ours.
KNOWN_MARKDOWN = (["toc", "tables", "fenced_code", "attr_list"], {"toc": {"permalink": False}})


def headings_only(markdown: str, lifted: dict[str, str]) -> tuple[str, list[dict]] | None:
    """What Python-Markdown (with ``KNOWN_MARKDOWN``) makes of a page that ``lift_html`` left
    as placeholders and headings of plain words alone: (its HTML, the table of contents'
    tokens). None for any other page, which goes through Markdown."""
    from markdown.extensions.toc import nest_toc_tokens, slugify, unique

    html, tokens, used, counters = [], [], set(), {}
    for block in markdown.split("\n\n"):
        block = block.strip("\n")
        if not block:
            continue
        if block in lifted:
            html.append(f"<p>{block}</p>")
            continue
        heading = _HEADING.fullmatch(block)
        if heading is None:
            return None
        level, text = len(heading.group(1)), heading.group(2)
        anchor = unique(slugify(text, "-"), used, counters)  # (and adds it to ``used``)
        html.append(f'<h{level} id="{anchor}">{text}</h{level}>')
        tokens.append({"level": level, "id": anchor, "name": text, "html": text,
                       "data-toc-label": ""})
    return "\n".join(html), nest_toc_tokens(tokens)


def _render_known(page, html: str, tokens: list[dict]):
    """``Page.render`` for a page whose HTML ``headings_only`` knows: what MkDocs' render
    sets, without building a Markdown converter for the page."""
    from mkdocs.structure.toc import get_toc

    def render(config, files) -> None:
        page.content = html
        page.toc = get_toc(tokens)
        page._title_from_render = None
        page.present_anchor_ids = {token["id"] for token in _flat(tokens)}
        page.links_to_anchors = {}
    return render


def _flat(tokens: list[dict]):
    for token in tokens:
        yield token
        yield from _flat(token["children"])


def theme_stylesheets(theme_dirs, subfolder: str = "") -> list[str]:
    """The theme's main and palette stylesheets (``assets/stylesheets/main.<hash>.min.css``),
    from the first theme folder that has them."""
    for folder in theme_dirs:
        styles = Path(folder) / "assets" / "stylesheets" / subfolder
        found = [sorted(styles.glob(f"{name}.*.min.css")) for name in ("main", "palette")]
        if found[0]:
            return [p.relative_to(folder).as_posix() for group in found for p in group[:1]]
    return []


def unused_theme_file(path: str) -> bool:
    """Whether a file of the theme's (its path in the site) is one our pages never load."""
    return path.startswith("assets/javascripts/") or path.endswith(".map")


class Plugin(BasePlugin):
    _lifted: dict[str, str] = {}
    #: Whether the config's Markdown settings are ``KNOWN_MARKDOWN`` (see ``headings_only``).
    _known_markdown = False

    def on_config(self, config):
        own = [str(p) for p in config.extra_css]
        theirs = [p for p in theme_stylesheets(config.theme.dirs) if p not in own]
        config.extra_css[:0] = theirs
        self._known_markdown = [config.markdown_extensions, config.mdx_configs] == list(
            KNOWN_MARKDOWN)
        return config

    def on_files(self, files, config):
        """Without the theme's scripts and source maps: our page loads no Material script
        (templates/theme/main.html), and a map is for debugging the theme's own code. About
        2.4 MB of every site, which nothing reads."""
        docs = Path(config.docs_dir).resolve()
        for file in list(files):
            if unused_theme_file(file.src_uri) and not Path(file.abs_src_path).resolve() \
                    .is_relative_to(docs):
                files.remove(file)
        return files

    def on_page_markdown(self, markdown: str, page, config, files) -> str:
        markdown, self._lifted = lift_html(markdown)
        known = headings_only(markdown, self._lifted) \
            if self._lifted and self._known_markdown else None
        if known is not None:
            # Most pages (every paper's): Markdown would only wrap the placeholders and make
            # the headings, so that is done here, and MkDocs' render is this page's.
            page.render = _render_known(page, *known)
        return markdown

    def on_page_content(self, html: str, page, config, files) -> str:
        html = put_back(html, self._lifted)
        self._lifted = {}
        # MkDocs keeps every page until it has rendered them all: without its Markdown source
        # (the title comes from the front matter, which stays), about half the memory.
        page.markdown = ""
        return html

    def on_post_page(self, output: str, page, config) -> str:
        return compact(output)
