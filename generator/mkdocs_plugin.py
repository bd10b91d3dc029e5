"""The ``paper-digest`` MkDocs plugin: the theme's stylesheets for our page template, and pages
without the indentation of templates.

Our page (templates/theme/main.html) lists ``extra_css`` only: the plugin puts Material's own
stylesheets first (their names carry a hash that changes with Material's version), so that
``mkdocs build`` and ``mkdocs serve`` work as ``digest build`` does. Each line's leading white
space goes (a line break stays, so no two words join); a page with preformatted text is left
as it is. A page's Markdown source is dropped once it is converted (MkDocs holds every page in
memory until the end).
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.plugins import BasePlugin

_INDENT = re.compile(r"\n[ \t]*(?:\n[ \t]*)*")


def compact(html: str) -> str:
    if "<pre" in html or "<textarea" in html:
        return html
    return _INDENT.sub("\n", html)


def theme_stylesheets(theme_dirs, subfolder: str = "") -> list[str]:
    """The theme's main and palette stylesheets (``assets/stylesheets/main.<hash>.min.css``),
    from the first theme folder that has them."""
    for folder in theme_dirs:
        styles = Path(folder) / "assets" / "stylesheets" / subfolder
        found = [sorted(styles.glob(f"{name}.*.min.css")) for name in ("main", "palette")]
        if found[0]:
            return [p.relative_to(folder).as_posix() for group in found for p in group[:1]]
    return []


class Plugin(BasePlugin):
    def on_config(self, config):
        own = [str(p) for p in config.extra_css]
        theirs = [p for p in theme_stylesheets(config.theme.dirs) if p not in own]
        config.extra_css[:0] = theirs
        return config

    def on_page_content(self, html: str, page, config, files) -> str:
        # MkDocs keeps every page until it has rendered them all: without its Markdown source
        # (the title comes from the front matter, which stays), about half the memory.
        page.markdown = ""
        return html

    def on_post_page(self, output: str, page, config) -> str:
        return compact(output)
