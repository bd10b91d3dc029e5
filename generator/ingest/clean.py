"""Text cleaning shared by every reader: decoding, Unicode, TeX remnants, links.

Pure: only processes data. Cleaning never changes what the text means: whitespace is
collapsed, Unicode is NFC, control characters are dropped and TeX remnants become the
characters they stand for.
"""

from __future__ import annotations

import re
import unicodedata

from generator.errors import ParseError

# Combining marks for TeX accent commands: \"o -> ö, \'e -> é, \c{c} -> ç.
_ACCENTS = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306", "H": "\u030b", "k": "\u0328",
}
# A run of accent commands and the letter they stand on (\'\'e stacks two accents). The letter
# is optional so that a run without one matches too, and a long run of commands is read once
# instead of tried from each of its commands (linear, not quadratic, time).
_ACCENT_COMMAND = r"""\\(?:["'`^~=.]|[cvuHk](?=[{ \\]))"""
_ACCENT = re.compile(
    rf"((?:{_ACCENT_COMMAND}\s*)+)(?:\{{\s*(\\[ij]|[A-Za-z])\s*\}}|(\\[ij]|[A-Za-z]))?")
_ACCENT_MARK = re.compile(r"""\\(["'`^~=.]|[cvuHk])""")
# {\bf P} and \textbf{P}: the text stays, the markup goes.
_FONT_GROUP = re.compile(r"\{\\(?:textbf|textit|texttt|bf|it|em|tt|sc|sl|rm|sf)\s+([^{}]*)\}")
_FONT_COMMAND = re.compile(
    r"\\(?:textbf|textit|textsc|texttt|textrm|textsf|textsl|emph|underline|mathrm|mathbf|"
    r"mathit|mathcal|text)\{([^{}]*)\}")
_FONT_SWITCH = re.compile(r"\\(?:bf|it|em|tt|sc)\b\s*")
_SYMBOLS = {
    r"\textless": "<", r"\textgreater": ">", r"\deg": "°", r"\textdegree": "°",
    r"\eg": "e.g.", r"\ie": "i.e.", r"\etc": "etc", r"\ldots": "…", r"\dots": "…",
    r"\textasciitilde": "~", r"\times": "×", r"\approx": "≈", r"\leq": "≤", r"\geq": "≥",
}
_SYMBOL = re.compile("|".join(re.escape(k) + r"(?![A-Za-z])" for k in
                              sorted(_SYMBOLS, key=len, reverse=True)))
_ESCAPED = re.compile(r"\\([%&_#$])")
_BRACED_SYMBOL = re.compile(r"\{(°|…|<|>)\}")

# Dropped: C0/C1 controls, bidirectional overrides and isolates, BOM, lone surrogates and
# noncharacters. Tabs and newlines are whitespace and are collapsed instead.
_INVISIBLE = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e"
    "\u2066-\u2069\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff]")

_URL = re.compile(r"https?://[^\s<>\"'`{}|\\^]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\"*"


def decode(data: bytes, path: str, *, latin1_ok: bool = True) -> tuple[str, str | None]:
    """Bytes -> text, and a warning when the bytes were not UTF-8.

    One encoding for the whole file, decided from its bytes: UTF-8 with or without BOM is read
    as is; a file with no UTF-8 in it at all is read as cp1252 (Latin-1 for the five bytes
    cp1252 leaves undefined) with a warning, where ``latin1_ok``; a file that mixes UTF-8 with
    other bytes is an error at the first byte that is not UTF-8."""
    if not data.strip():
        raise ParseError("the file is empty", path=path, line=1,
                         fix="pass a saved digest page, an API JSON answer or an archive YAML")
    sample = data[:4096]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if b"\x00" in sample or controls > len(sample) // 20:
        raise ParseError("this is a binary file, not a digest", path=path, line=1,
                         fix="pass the digest saved as text (UTF-8)")
    if b"\x00" in data:
        raise ParseError("a NUL byte (0x00) here: text files hold none", path=path,
                         line=data[:data.index(b"\x00")].count(b"\n") + 1,
                         fix="remove it (the file may be damaged), or save it again as text")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        if not latin1_ok or _UTF8_SEQUENCE.search(data):
            # One encoding for a whole file: UTF-8 in one place and not in another is a file
            # pasted together, and no one reading of it is right.
            mixed = " and UTF-8 elsewhere" if _UTF8_SEQUENCE.search(data) else ""
            raise ParseError(f"not UTF-8: byte 0x{data[exc.start]:02X} here{mixed}", path=path,
                             line=line, fix="save the whole file as UTF-8") from exc
        text = "".join(
            bytes([b]).decode("cp1252", errors="strict") if b not in _CP1252_HOLES else chr(b)
            for b in data) if any(b in _CP1252_HOLES for b in data) else data.decode("cp1252")
        return text, (f"{path}:{line}: not UTF-8; read as cp1252 (Windows Latin-1) - "
                      "check the accented characters, or save the file as UTF-8")


_CP1252_HOLES = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})
#: A multi-byte UTF-8 character.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|"
                            rb"[\xf0-\xf4][\x80-\xbf]{3}")
#: Bytes that text files do not hold (tab, newline and carriage return aside).
_CONTROL_BYTES = bytes([*range(0, 9), *range(14, 32)])


def untex(text: str) -> str:
    """Turn the TeX remnants that arXiv abstracts carry into the characters they stand for."""
    if "\\" in text:
        # A TeX line break first, so that "\\\\_" cannot leave a "\\_" for the next pass.
        text = text.replace("\\\\", " ")
        text = _ACCENT.sub(_accent, text)
        for _ in range(4):  # nested markup such as \textbf{\emph{x}}
            text = _FONT_GROUP.sub(r"\1", text)
            text = _FONT_COMMAND.sub(r"\1", text)
        text = _FONT_SWITCH.sub("", text)
        text = _SYMBOL.sub(lambda m: _SYMBOLS[m.group(0)], text)
        text = _ESCAPED.sub(r"\1", text)
        text = _BRACED_SYMBOL.sub(r"\1", text)
    if "``" in text:
        text = _tex_quotes(text)
    return text


_QUOTE_MARKS = re.compile(r"(``|''|\")")


def _tex_quotes(text: str) -> str:
    """``quoted'' (or ``quoted") -> “quoted”; a `` left open -> “. One pass over
    the text (a regular expression that looks for each closing mark from each opening one
    takes quadratic time on a line of openings)."""
    out, opened = [], False
    for part in _QUOTE_MARKS.split(text):
        if part == "``":
            out.append("\u201c")
            opened = True
        elif opened and part in ("''", '"'):
            out.append("\u201d")
            opened = False
        else:
            out.append(part)
    return "".join(out)


def _accent(match: re.Match) -> str:
    letter = match.group(2) or match.group(3)
    if letter is None:
        return match.group(0)
    letter = {"\\i": "i", "\\j": "j"}.get(letter, letter)
    # The command nearest the letter applies first.
    marks = [_ACCENTS[m] for m in reversed(_ACCENT_MARK.findall(match.group(1)))]
    return unicodedata.normalize("NFC", letter + "".join(marks))


def clean_text(text: str) -> str:
    """One line of clean text: TeX remnants resolved, NFC, no control characters, single spaces."""
    # Invisible characters and line breaks go before TeX is read, so that cleaning clean text
    # changes nothing ("\\c" and "x" on two lines must not join into one accent later).
    # split() without arguments splits on every run of whitespace, three times faster than
    # a regular expression (this runs on every title and abstract of every build).
    text = " ".join(_INVISIBLE.sub("", text).split())
    if "\\" in text or "``" in text:
        text = " ".join(untex(text).split())
    return unicodedata.normalize("NFC", text)


def find_links(text: str) -> tuple[str, ...]:
    """URLs in an abstract, in order, without the punctuation that ends the sentence."""
    links: dict[str, None] = {}
    for match in _URL.finditer(text):
        url = match.group(0)
        # One pass from the end, counting brackets once: linear however long the run of
        # punctuation after a URL.
        end, opened, closed = len(url), url.count("("), url.count(")")
        while end and url[end - 1] in _TRAILING:
            # A closing bracket that the URL itself opened belongs to it (Wikipedia-style URLs).
            if url[end - 1] == ")":
                if opened >= closed:
                    break
                closed -= 1
            end -= 1
        url = url[:end]
        if len(url) > len("https://x.y"):
            links.setdefault(url)
    return tuple(links)
