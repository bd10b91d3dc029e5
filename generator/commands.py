"""What each command does, composed from the stages; ``cli.py`` only prints the results.

``ingest_files`` is the only one that writes, and only through ``archive.write_digests``.
"""

from __future__ import annotations

import datetime
import stat
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from generator import archive as archive_store
from generator import evaluation
from generator.build import TAXONOMY, load_site, reading_cache, taxonomy_path
from generator.config import load_config
from generator.errors import DigestError, ErrorList, raise_all
from generator.evaluation import read_labels
from generator.files import replace_bytes
from generator.layout import Site, url_of
from generator.records import Digest, Paper, title_identity
from generator.tagging import Tagger, Taxonomy, load_taxonomy, report


@dataclass
class IngestReport:
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    #: Papers the archive did not hold before.
    new: int = 0


def add_digests(content: Path, digests: list[Digest], report: IngestReport) -> IngestReport:
    """Add dated digests to the archive in one atomic write, holding the archive's lock; say
    what changed."""
    with archive_store.locked(content), reading_cache() as cache:
        archive = archive_store.load(content, missing_ok=True, cache=cache)
        known = {p.key for p in archive.papers}
        incoming = [d for d in digests if d.papers]
        archive_store.refuse_copies(archive, incoming)
        changes = archive_store.plan_additions(archive, incoming)
        report.written = archive_store.write_digests(content, changes) if changes else []
    for digest in changes:
        new = sum(1 for p in digest.papers if p.key not in known)
        known.update(p.key for p in digest.papers)
        report.new += new
        report.lines.append(f"{digest.date}: {len(digest.papers)} papers, {new} new to the "
                            f"archive -> {archive_store.digest_path(content, digest.date)}")
    if not changes:
        report.lines.append("Nothing to add: the archive already holds these papers.")
    return report


def ingest_files(files: list[Path], *, content: Path, fmt: str | None = None,
                 date: datetime.date | None = None) -> IngestReport:
    """Read every file; if all read cleanly, add them to the archive. Nothing is written
    when any file has a problem, and every problem is reported."""
    from generator.ingest import read_digest
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
    """The archive tagged and laid out like a build, without related papers; nothing is
    written but the build cache."""
    config = load_config()
    with reading_cache(config) as cache:
        return load_site(content, config, related={}, cache=cache)


def paper_lines(content: Path) -> list[str]:
    """`digest list`: a line per paper, newest first (its last day, key and title). None of
    it needs tags, so neither the taxonomy nor the topic model is read."""
    with reading_cache() as cache:
        archive = archive_store.load(Path(content), cache=cache)
    return [f"{p.dates[-1]}  {p.key}  {p.title}" for p in archive.papers]


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
             "Papers per tag, most first:"]
    counts = figures["counts"]
    for tag in sorted(site.tags, key=lambda t: (-counts.get(t.id, 0), t.id)):
        n = counts.get(tag.id, 0)
        lines.append(f"  {n:5d}  {100 * n / total:5.1f}%  {tag.id}")
    lines.append("")
    lines.append(f"Untagged papers ({len(figures['untagged'])}):")
    lines.extend(f"  {site.by_key[k].title}  [{k}]" for k in figures["untagged"])
    lines.append("")
    broad = figures["broad"]
    lines.append("Tags on more than a third of the archive: " + (", ".join(broad) or "none"))
    from generator.topicmodel import model_about, model_path
    about = model_about(model_path(taxonomy_path(content)))
    lines.append("Topic model: " + (about if about is not None else
                                    "none (tags come from the taxonomy's phrases alone)"))
    return lines


def find_paper(papers: Iterable[Paper], query: str, content: Path) -> Paper:
    """The paper whose key is ``query``, else the one paper whose key starts with it or whose
    title is it (case and punctuation ignored)."""
    papers = list(papers)
    exact = [p for p in papers if p.key == query]
    if exact:
        return exact[0]
    identity = title_identity(query)
    found = [p for p in papers if p.key.startswith(query)] or \
        [p for p in papers if identity and p.identity == identity]
    if len(found) == 1:
        return found[0]
    if found:
        keys = ", ".join(p.key for p in found[:5]) + (", ..." if len(found) > 5 else "")
        raise DigestError(f"'{query}' could be {len(found)} papers: {keys}", path=content,
                          fix="give more of the key")
    raise DigestError(f"no paper with key or title '{query}'", path=content,
                      fix="see the keys with 'digest list'")


def why(content: Path, query: str) -> list[str]:
    """Which phrases and words tagged one paper, and where they stand."""
    archive = archive_store.load(content)
    paper = find_paper(archive.papers, query, content)
    taxonomy = load_taxonomy(taxonomy_path(content))
    lines = [f"{paper.title}  [{paper.key}]"]
    explanations = Tagger(taxonomy).explain(paper)
    if not explanations:
        lines.append("  no tags: no phrase of the taxonomy matched and the topic model was "
                     "not sure of any topic (see 'digest tags')")
    for e in explanations:
        if e.by_hand:
            lines.append(f"  {e.tag}: set by hand in the archive")
            continue
        how = f"probability {e.score:.2f}" if e.by_model else f"score {e.score:g}"
        lines.append(f"  {e.tag} ({how}):")
        # Each phrase once, with how often and where it stands.
        by_phrase: dict[str, Counter] = {}
        for m in e.matches:
            by_phrase.setdefault(m.phrase, Counter())[m.where] += 1
        for phrase, places in by_phrase.items():
            total = sum(places.values())
            where = ", ".join(w + (f" x{n}" if n > 1 else "") for w, n in places.items())
            lines.append(f"    \"{phrase}\"{f' x{total}' if total > 1 else ''}: {where}")
        if e.terms:
            lines.append("    words: " + ", ".join(f"{term} +{weight:g}"
                                                   for term, weight in e.terms))
    return lines


def score_tags(content: Path, labels_files: list[Path]) -> list[str]:
    """How the archive's tags compare with hand labels: micro figures, then per topic."""
    labels = {}
    for path in labels_files:
        labels.update(read_labels(path))
    site = load_tagged(content)
    score = evaluation.score_tags(site.papers, labels, known=site.tags_by_id)
    if not score.papers:
        raise DigestError("no labelled paper is in the archive", path=labels_files[0],
                          fix="label papers of this archive (matched by title), or pass "
                              "--content with the archive the labels are for")
    total = score.total
    lines = [f"{score.papers} labelled papers ({score.unmatched} labels match no paper of the "
             f"archive), {score.untagged} untagged",
             f"precision {total.precision:.3f}  recall {total.recall:.3f}  F1 {score.f1:.3f}  "
             f"(right {total.right}, wrong {total.wrong}, missed {total.missed})", "",
             "Per topic, worst first:  right  wrong  missed  precision  recall"]
    lines += topic_rows((topic, t.right, t.wrong, t.missed) for topic, t in score.worst_first())
    return lines


def topic_rows(rows) -> list[str]:
    """Lines of (topic, right, wrong, missed), worst first, with precision and recall."""
    rows = sorted(rows, key=lambda row: (-(row[2] + row[3]), row[0]))
    return [f"  {topic:<34} {right:5d} {wrong:6d} {missed:7d}  "
            f"{right / (right + wrong) if right + wrong else 1.0:9.2f} "
            f"{right / (right + missed) if right + missed else 1.0:7.2f}"
            for topic, right, wrong, missed in rows]


def train_tags(content: Path, labels_files: list[Path]) -> list[str]:
    """Fit the topic model on the archive's labelled papers; write it beside the taxonomy."""
    from generator.topicmodel import fit, model_path

    own = Path(content) / TAXONOMY
    if not own.is_file():
        raise DigestError("the archive has no taxonomy of its own to fit a model for",
                          path=content, fix=f"copy a taxonomy to {own} first")
    labels = {}
    for path in labels_files:
        labels.update(read_labels(path))
    taxonomy = load_taxonomy(own, with_model=False)
    known = {t.id for t in taxonomy.tags}
    papers = [p for p in archive_store.load(content).papers if p.identity in labels]
    if len(papers) < 20:
        raise DigestError(f"only {len(papers)} labelled papers are in the archive",
                          path=labels_files[0], fix="label at least 20 papers of this archive")
    phrases = Tagger(taxonomy, use_model=False)

    def evidence(paper: Paper) -> dict:
        return {taxonomy.tags[i].id: e for i, e in phrases.evidence(paper).items()}

    gold = [sorted(labels[p.identity].topics & known) for p in papers]
    about = f"fitted on {len(papers)} labelled papers ({', '.join(map(str, labels_files))})"
    fitted = fit(papers, gold, evidence, about=about)
    precision, recall, f1 = fitted.cross_validated
    target = model_path(own)
    try:
        replace_bytes(target, fitted.model.to_json().encode("utf-8"))
    except OSError as exc:
        raise DigestError(f"cannot write the topic model: {exc.strerror or exc}", path=target,
                          fix="check the folder's free space and permissions; the old model "
                              "is as it was") from exc
    thresholds = sorted(fitted.model.thresholds.values())
    lines = [f"Fitted the topic model on {len(papers)} labelled papers -> {target}",
             f"On papers it was not fitted on (5-fold cross-validation): precision "
             f"{precision:.3f}, recall {recall:.3f}, F1 {f1:.3f}",
             f"Thresholds {thresholds[0]:.2f} to {thresholds[-1]:.2f} by topic, floor "
             f"{fitted.model.floor:.2f}; score the tags with 'digest tags --score "
             f"{labels_files[0]}'", "",
             "Per topic (cross-validated), worst first:  right  wrong  missed  precision  "
             "recall"]
    lines += topic_rows((topic, *counts) for topic, counts in fitted.per_topic.items())
    return lines


def email_digest(content: Path, *, date: datetime.date | None, topics: tuple[str, ...],
                 out: Path | None, send_it: bool, config_file: Path | None,
                 site_url: str | None, environ: dict) -> tuple[list[str], bytes | None]:
    """The day's digest as an email: sent, written to ``out``, or returned to print. An empty
    day (or no paper of the topics) sends nothing. Returns the lines to say and the message to
    print, if any."""
    from generator import mail
    config = load_config(config_file, site_url)
    if not config.site_url:
        raise DigestError("site_url is not set, and the email links to the site",
                          path=config.config_file, fix="set site_url, or pass --site-url")
    with reading_cache(config) as cache:
        site = load_site(content, config, related={}, cache=cache)
    digest, papers = mail.choose(site, date, topics)
    day = date or (digest.date if digest else None)
    if not papers:
        what = f" of {', '.join(topics)}" if topics else ""
        return [f"{day or 'The archive'}: no papers{what}; nothing sent"], None
    smtp = mail.settings(environ) if send_it else None
    sender = smtp["sender"] if smtp else environ.get("DIGEST_MAIL_FROM") or "digest@localhost"
    to = smtp["to"] if smtp else [environ.get("DIGEST_MAIL_TO") or "reader@localhost"]
    msg = mail.message(site, digest, papers, sender=sender, to=to, topics=topics)
    if smtp:
        mail.send(msg, smtp)
        return [f"Sent the digest of {digest.date} ({len(papers)} papers) to "
                f"{len(smtp['to'])} address{'es' if len(smtp['to']) != 1 else ''}"], None
    if out is not None and str(out) != "-":
        write_file(Path(out), msg.as_bytes())
        return [f"Wrote the digest of {digest.date} ({len(papers)} papers) to {out}"], None
    return [], msg.as_bytes()


def write_file(path: Path, data: bytes) -> None:
    """Write a file the user named: a new file, or in place of a regular file there. A
    symbolic link, a device, a pipe or a folder is never replaced or followed."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise DigestError(f"cannot write: {exc.strerror or exc}", path=path,
                          fix="check the folder and its permissions") from exc
    if mode is not None and not stat.S_ISREG(mode):
        what = "a symbolic link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode) \
            else "not a regular file"
        raise DigestError(f"refusing to write: it is {what}", path=path,
                          fix="pass a new file's name, or - for standard output")
    try:
        replace_bytes(path, data)
    except OSError as exc:
        raise DigestError(f"cannot write: {exc.strerror or exc}", path=path,
                          fix="check the folder, its free space and its permissions") from exc


def score_relatedness(content: Path, labels_files: list[Path]) -> list[str]:
    """How many related-paper links join papers with a hand-labelled topic in common."""
    from generator.build import relate
    labels = {}
    for path in labels_files:
        labels.update(read_labels(path))
    site = load_tagged(content)
    related, _, _ = relate(site, load_taxonomy(taxonomy_path(content)))
    score = evaluation.score_related(site.papers, related, labels)
    if not score.links:
        raise DigestError("no related link joins two labelled papers of the archive",
                          path=labels_files[0], fix="label papers of this archive (matched "
                                                    "by title), or pass --content")
    return [f"{score.links} related links between labelled papers: {score.agreeing} "
            f"({100 * score.share:.1f}%) join papers with a labelled topic in common; "
            f"{score.alone} labelled papers have no related paper"]
