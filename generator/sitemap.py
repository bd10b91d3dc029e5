"""Site + its pages -> {path in the site: bytes}: the sitemap for search engines.

Pure: only processes data. One ``sitemap.xml`` while the site has at most 50,000 pages (the
protocol's limit for one file); beyond that ``sitemap.xml`` is a sitemap index of
``sitemaps/sitemap-N.xml`` files of 50,000 pages each. Each page's date is the archive's
(a paper's last day, a digest's day, else the newest digest): never the clock. No visitor's
browser asks for it: only crawlers do.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from generator.layout import Site

#: Pages of one sitemap file, as the protocol allows.
PER_FILE = 50_000
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
_DAY = re.compile(r"^digests/(\d{4}-\d{2}-\d{2})\.md$")


def render_sitemap(site: Site, pages: list[str]) -> dict[str, bytes]:
    """The sitemap file(s) of the site whose Markdown pages are ``pages`` (docs_dir paths)."""
    by_path = {site.paper_page(p): p.last_seen for p in site.papers}
    newest = site.last_updated
    entries = []
    for path in sorted(pages):
        day = _DAY.match(path)
        date = by_path.get(path) or (day.group(1) if day else newest)
        lastmod = f"<lastmod>{date}</lastmod>" if date else ""
        entries.append(f"<url><loc>{escape(site.absolute(path))}</loc>{lastmod}</url>")
    if len(entries) <= PER_FILE:
        return {"sitemap.xml": _urlset(entries)}
    out, index = {}, []
    for number, start in enumerate(range(0, len(entries), PER_FILE), start=1):
        name = f"sitemaps/sitemap-{number}.xml"
        out[name] = _urlset(entries[start:start + PER_FILE])
        index.append(f"<sitemap><loc>{escape(site.config.site_url + name)}</loc>"
                     f"{f'<lastmod>{newest}</lastmod>' if newest else ''}</sitemap>")
    out["sitemap.xml"] = (f"{_HEAD}<sitemapindex {_NS}>\n" + "\n".join(index)
                          + "\n</sitemapindex>\n").encode("utf-8")
    return out


def _urlset(entries: list[str]) -> bytes:
    return (f"{_HEAD}<urlset {_NS}>\n" + "\n".join(entries) + "\n</urlset>\n").encode("utf-8")
