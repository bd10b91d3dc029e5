"""The ``paper-digest`` MkDocs plugin: pages without the indentation of the theme's templates.

Material's templates indent their HTML deeply; a page of paper-digest is mostly that chrome.
Each line's leading white space goes (a line break stays, so no two words join); pages hold
no preformatted text, but a page that does is left as it is.
"""

from __future__ import annotations

import re

from mkdocs.plugins import BasePlugin

_INDENT = re.compile(r"\n[ \t]*(?:\n[ \t]*)*")


def compact(html: str) -> str:
    if "<pre" in html or "<textarea" in html:
        return html
    return _INDENT.sub("\n", html)


class Plugin(BasePlugin):
    def on_post_page(self, output: str, page, config) -> str:
        return compact(output)
