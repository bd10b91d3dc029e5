"""What each command does, composed from the stages; ``cli.py`` only prints the results.

``ingest_files`` is the only one that writes, and only through ``archive.write_digests``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from generator import archive as archive_store
from generator.build import load_site, taxonomy_path
from generator.config import load_config
from generator.errors import DigestError, ErrorList, raise_all
from generator.ingest import read_digest
from generator.layout import Site, url_of
from generator.records import Digest
from generator.tagging import Tagger, Taxonomy, load_taxonomy, report


@dataclass
class IngestReport:
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def add_digests(content: Path, digests: list[Digest], report: IngestReport) -> IngestReport:
    """Add dated digests to the archive in one atomic write; say what changed."""
    archive = archive_store.load(content, missing_ok=True)
    known = {p.key for p in archive.papers}
    changes = archive_store.plan_additions(archive, [d for d in digests if d.papers])
    report.written = archive_store.write_digests(content, changes) if changes else []
    for digest in changes:
        new = sum(1 for p in digest.papers if p.key not in known)
        report.lines.append(f"{digest.date}: {len(digest.papers)} papers, {new} new to the "
                            f"archive -> {archive_store.digest_path(content, digest.date)}")
    if not changes:
        report.lines.append("Nothing to add: the archive already holds these papers.")
    return report


def ingest_files(files: list[Path], *, content: Path, fmt: str | None = None,
                 date: datetime.date | None = None) -> IngestReport:
    """Read every file; if all read cleanly, add them to the archive. Nothing is written
    when any file has a problem, and every problem is reported."""
    report = IngestReport()
    digests, errors = [], []
    for path in files:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            errors.append(DigestError(f"cannot read: {exc.strerror}", path=path,
                                      fix="check the file name"))
            continue
        try:
            digest, warnings = read_digest(data, str(path), fmt=fmt, date=date)
        except ErrorList as exc:
            errors.extend(exc.errors)
            continue
        except DigestError as exc:
            errors.append(exc)
            continue
        report.warnings.extend(warnings)
        if not digest.papers:
            report.lines.append(f"{path}: no papers (an empty day); nothing to add")
        digests.append(digest)
    raise_all(errors)
    return add_digests(Path(content), digests, report)


def load_tagged(content: Path) -> Site:
    """The archive tagged and laid out like a build, without related papers or any writing."""
    return load_site(content, load_config(), related={})


def paper_listing(content: Path) -> list[dict]:
    """Every paper as a JSON-ready dict, newest first."""
    site = load_tagged(content)
    out = []
    for p in site.papers:
        out.append({
            "key": p.key, "title": p.title, "abstract": p.abstract,
            "dates": [d.isoformat() for d in p.dates],
            "ranks": {a.date.isoformat(): a.rank for a in p.appearances},
            "tags": list(p.tags), "links": list(p.links),
            "url": url_of(site.paper_page(p)),
            "authors": list(p.authors), "arxiv_id": p.arxiv_id, "upvotes": p.upvotes,
            "github_repo": p.github_repo, "github_stars": p.github_stars,
            "project_page": p.project_page, "keywords": list(p.keywords),
        })
    return out


def tags_report(content: Path) -> list[str]:
    site = load_tagged(content)
    figures = report(list(site.papers), Taxonomy(tags=site.tags))
    total = figures["papers"] or 1
    lines = [f"{figures['papers']} papers, {figures['tagged']} tagged "
             f"({100 * figures['tagged'] / total:.1f}%), median {figures['median_tags']} tags "
             f"a paper, largest tag {100 * figures['largest_share']:.1f}% of papers", "",
             "Papers per tag:"]
    for tag in site.tags:
        n = figures["counts"].get(tag.id, 0)
        lines.append(f"  {n:5d}  {100 * n / total:5.1f}%  {tag.id}")
    lines.append("")
    lines.append(f"Untagged papers ({len(figures['untagged'])}):")
    lines.extend(f"  {site.by_key[k].title}  [{k}]" for k in figures["untagged"])
    lines.append("")
    broad = figures["broad"]
    lines.append("Tags on more than a third of the archive: " + (", ".join(broad) or "none"))
    return lines


def why(content: Path, key: str) -> list[str]:
    """Which phrases tagged one paper, and where they matched."""
    archive = archive_store.load(content)
    paper = next((p for p in archive.papers if p.key == key), None)
    if paper is None:
        raise DigestError(f"no paper with key '{key}'", path=content,
                          fix="see the keys with 'digest list'")
    taxonomy = load_taxonomy(taxonomy_path(content))
    lines = [f"{paper.title}  [{paper.key}]"]
    explanations = Tagger(taxonomy).explain(paper)
    if not explanations:
        lines.append("  no tags: no phrase of the taxonomy matched (see 'digest tags')")
    for e in explanations:
        if e.by_hand:
            lines.append(f"  {e.tag}: set by hand in the archive")
            continue
        lines.append(f"  {e.tag} (score {e.score}):")
        for m in e.matches:
            lines.append(f"    {m.where}: \"{m.found}\" (phrase: {m.phrase})")
    return lines
