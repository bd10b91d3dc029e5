"""paper-digest: daily 'trending papers' digests in, a tagged static site and feeds out.

The pipeline, one module per stage::

    ingest/ -> records -> archive -> tagging -> pages, feeds -> build (MkDocs, Pagefind) -> site/
"""

__version__ = "0.1.0"
