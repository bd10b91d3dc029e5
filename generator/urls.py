"""URLs and slugs: what may be linked, and the stable paths of generated pages.

Pure: only processes data.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

# No space, quote, bracket, control character or lone surrogate: one URL, writable anywhere.
_SAFE_URL = re.compile("https?://[^\\s<>\"'`{}|\\\\^\x00-\x1f\x7f-\x9f\ud800-\udfff]+",
                       re.IGNORECASE)

#: Names that Windows will not create, whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
             *(f"lpt{i}" for i in range(10))}
#: Slugs of generated section pages; a paper never takes one.
MAX_SLUG = 80


def safe_url(url: str | None) -> str | None:
    """The URL when it is a plain http(s) URL, else None (no javascript:, no spaces, no quotes)."""
    if url and _SAFE_URL.fullmatch(url.strip()):
        return url.strip()
    return None


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_length: int = MAX_SLUG) -> str:
    """A safe file and URL name: ASCII letters, digits and single hyphens.

    Text that loses characters on the way (other scripts, emoji) or is cut to ``max_length``
    gets a short hash of the whole text, so different texts keep different slugs."""
    if text.isascii():  # (every arXiv id: NFKD leaves ASCII as it is, and nothing is lost)
        ascii_text, lossy = text, False
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        ascii_text = decomposed.encode("ascii", "ignore").decode()
        # Accents fold away harmlessly (naïve -> naive); letters of other scripts are lost.
        lossy = any(ch.isalnum() and not ch.isascii() for ch in decomposed)
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        slug, lossy = slug[:max_length].rstrip("-"), True
    if not slug or lossy or slug in _RESERVED:
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
        slug = f"{slug}-{digest}" if slug else digest
    return slug


def assign_slugs(keys_in_order: Iterable[str],
                 reserved: frozenset[str] = frozenset()) -> dict[str, str]:
    """Slug for each key. Keys come oldest first (first appearance, then rank): when two keys
    give the same slug the earlier paper keeps it and the later one gets ``-2``, ``-3``...
    A ``reserved`` slug (a generated page's name) is never given."""
    taken: set[str] = set(reserved)
    slugs: dict[str, str] = {}
    for key in keys_in_order:
        base = slugify(key)
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        slugs[key] = slug
    return slugs
