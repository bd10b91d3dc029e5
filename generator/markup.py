"""Untrusted text -> Markdown, HTML, URLs and YAML front matter that show exactly that text.

Pure: only processes data. Pages and feeds both stand on these: record text reaches Markdown
only through ``md``, raw HTML only through ``html_text``, a Markdown link only through
``href``, an HTML attribute only through ``attribute_url``, front matter only through
``front_matter``. Nothing a paper says can become HTML, Markdown syntax, an attribute list,
Jinja or YAML structure.
"""

from __future__ import annotations

import html
import string
import urllib.parse

import yaml

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# ASCII punctuation becomes a numeric character reference: Markdown and its extensions give
# meaning only to punctuation, and a character reference is always plain text. Left as they
# are: the few marks no syntax used here reads (, ; ? % / @ ' "), so the Markdown stays legible.
_PLAIN = set(",;?%/@'\"")
_MD_ESCAPES = str.maketrans({c: f"&#{ord(c)};" for c in string.punctuation if c not in _PLAIN})
# Characters that could end a Markdown link destination or an HTML attribute.
_URL_SAFE = "/:?#&=+%~.,;!$@-_*"


def md(text: object) -> str:
    """Text -> Markdown that shows exactly that text."""
    return str(text).translate(_MD_ESCAPES)


def html_text(text: object) -> str:
    """Text -> HTML that shows exactly that text, for a raw HTML block in the Markdown.

    Markdown leaves a raw HTML block as it is (no links, emphasis or attribute lists inside),
    and skipping Markdown's inline processing is what makes long abstracts cheap to build."""
    return html.escape(str(text), quote=True)


def attribute_url(url: str) -> str:
    """A URL for an HTML attribute: one URL (see ``href``), with & written as &amp;."""
    return html.escape(href(url), quote=True)


def href(url: str) -> str:
    """A URL that stays one URL inside a Markdown link: anything but plain URL characters is
    percent-encoded (parentheses, brackets, quotes, spaces)."""
    return urllib.parse.quote(url, safe=_URL_SAFE)


def front_matter(**fields: object) -> str:
    """YAML front matter. MkDocs and the theme put title, description and tags into HTML as
    they are, so text is HTML-escaped first; the YAML dumper then quotes whatever YAML needs."""
    def escape(value):
        if isinstance(value, str):
            return html.escape(value, quote=True)
        if isinstance(value, (list, tuple)):
            return [escape(v) for v in value]
        return value
    data = {k: escape(v) for k, v in fields.items() if v not in (None, "", [], ())}
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{body}---\n"


