"""Corpus loading: a folder of documents (text, Markdown, PDF, HTML, .docx, EPUB), an optional catalog.toml.

A document's text is what its reader (index.formats) extracts: the file itself for plain text, the rendered
text for Markdown, the main text for the others. Each field of a document's metadata comes from the first of:
the catalog (catalog.toml keyed by file name), what the file states (a text or Markdown file's front matter, a
leading ``---`` block of ``key: value`` lines; an HTML page's title and date; a PDF's or EPUB's metadata), or
inference from the text (title = first meaningful line, date = a full date in the first lines (a dateline: "CRN,
published 2019-11-19") or else the latest full date in the text, languages = scripts used). Where a field came
from is kept so `footnote corpus` can show it.

One bad file never takes the corpus down: a document that cannot be read (not UTF-8 or UTF-16/32 with a byte
order mark, empty, binary, encrypted, not what its extension says, a broken or looping symbolic link, a file
name that is not valid UTF-8) is skipped with one warning naming it, and the rest still load. A catalog or
front-matter value of the wrong type, or a date that is not a calendar date (YYYY, YYYY-MM or YYYY-MM-DD), is
ignored with one warning naming the file and field, and the field is inferred instead; a catalog.toml that is
not a TOML file (or is a folder) is ignored.
"""

from __future__ import annotations

import bisect
import calendar
import hashlib
import logging
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from index.errors import CorpusError
from index.formats import FORMATS, TEXT_FORMATS, Extracted, check_content, format_of, read_binary
from index.normalize import han_count, is_traditional
from index.passages import is_noise, paragraph_starts

log = logging.getLogger(__name__)

DOCUMENT_SUFFIXES = tuple(FORMATS)
# Files in a corpus folder that are data about the corpus, not documents of it.
RESERVED_NAMES = frozenset({"userdict.txt", "catalog.toml", "glossary.toml"})
_RESERVED_PREFIXES = ("readme", "license", "licence", "changelog")
FIELDS = ("title", "source", "date", "languages", "url")

_MONTHS = {name: number for number, name in enumerate(calendar.month_name) if name}
_DATE_PATTERNS = (
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号號]"),
    re.compile(
        r"\b(?P<mname>January|February|March|April|May|June|July|August|September|October|November|December"
        r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?\s+(?P<d>\d{1,2}),\s*(?P<y>(?:19|20)\d{2})\b"
    ),
)
_MONTH_ABBREVIATIONS = {name[:3]: number for name, number in _MONTHS.items()} | {"Sept": 9}
_HEAD_LINES = 4  # a dateline stands in the first lines of a document (headline, outlet and date, byline)


@dataclass(frozen=True)
class DocumentInfo:
    """A document's catalog fields, with where each came from (catalog, front matter, inferred, unknown)."""

    doc_id: str
    path: str
    title: str
    source: str
    date: str
    languages: tuple[str, ...]
    url: str
    origins: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""  # hash of the document's file: tells a changed document from an unchanged one
    format: str = "text"  # index.formats: text, markdown, pdf, html, docx, epub
    # Pages (PDF) or chapters (EPUB): (start offset in the text, label, number of the division's first paragraph).
    divisions: tuple[tuple[int, str, int], ...] = ()
    division_kind: str = ""  # "page" or "chapter"

    def place(self, paragraph: int, start: int) -> tuple[str, str]:
        """Where a passage is, as a reader of the original finds it: ("p. 12", "12") in a PDF, ("Chapter
        title, ¶ 3", "") in an EPUB (paragraphs counted from the chapter's start), ("¶ 27", "") otherwise."""
        if self.divisions:
            index = bisect.bisect_right([division[0] for division in self.divisions], start) - 1
            if index >= 0:
                _offset, label, first = self.divisions[index]
                if self.division_kind == "page":
                    return f"p. {label}", label
                return f"{label}, ¶ {paragraph - first + 1}", ""
        return f"¶ {paragraph}", ""


@dataclass(frozen=True)
class Document:
    """A corpus document: its full original text and its catalog fields."""

    info: DocumentInfo
    text: str
    body_start: int
    fingerprint: str

    @property
    def doc_id(self) -> str:
        return self.info.doc_id


@dataclass(frozen=True)
class CorpusLoad:
    documents: tuple[Document, ...]
    skipped: tuple[tuple[Path, str], ...]


def full_dates(text: str) -> list[date]:
    """Every complete calendar date written in the text (ISO, slashes, 年月日, 'December 9, 2025')."""
    found: list[date] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            name = groups["mname"].capitalize() if groups.get("mname") else ""
            month = (_MONTHS.get(name) or _MONTH_ABBREVIATIONS[name]) if name else int(groups["m"])
            try:
                found.append(date(int(groups["y"]), month, int(groups["d"])))
            except ValueError:
                continue
    return found


def _is_dateline(line: str) -> bool:
    """A short line that is not a sentence: outlet and date ("CRN, published 2019-11-19", "新浪科技，2019-09-11")."""
    return len(line) <= 80 and not re.search(r"[。！？!?]|\.(?:\s|$)", line)


def _front_matter(text: str) -> tuple[dict[str, str], int]:
    """Parse a leading ``---`` block of ``key: value`` lines; return the fields and where the body starts."""
    match = re.match(r"\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)", text, re.S)
    if not match:
        return {}, 0
    fields: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            fields[key.strip().lower()] = value.strip().strip("\"'")
    return fields, match.end()


def _as_languages(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(part.strip() for part in re.split(r"[,\s\[\]]+", str(value)) if part.strip())


def _infer_title(text: str, body_start: int) -> str:
    for line in text[body_start:].splitlines():
        line = line.strip().lstrip("\ufeff#").strip()
        if is_noise(line) or len(line) < 4 or line.endswith(":") or line.lower().startswith("tl;dr"):
            continue
        return line if len(line) <= 120 else line[:119] + "…"
    return ""


def _infer_languages(text: str) -> tuple[str, ...]:
    han = han_count(text)
    latin_words = len(re.findall(r"\b[A-Za-z]{3,}\b", text))
    languages: list[str] = []
    if han >= 20:
        languages.append("zh-Hant" if is_traditional(text) else "zh-Hans")
    if latin_words >= 60 and latin_words * 4 >= han / 4:
        languages.append("en")
    return tuple(languages) or (("en",) if latin_words else ())


# Byte order marks, longest first (UTF-32 LE starts with UTF-16 LE's).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_document(data: bytes, name: str) -> str:
    """A document's text: UTF-8, or UTF-8/16/32 with a byte order mark (which is not part of the text)."""
    encoding = next((codec for bom, codec in _BOMS if data.startswith(bom)), None)
    if encoding is None:
        if b"\x00" in data:
            raise CorpusError(f"{name}: looks binary (contains NUL bytes; UTF-16 needs a byte order mark)")
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        label = {"utf-8-sig": "UTF-8"}.get(encoding, encoding.upper())
        raise CorpusError(f"{name}: not {label} (byte {exc.start}: {data[exc.start : exc.start + 1]!r})") from exc
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise CorpusError(f"{name}: looks binary (contains NUL characters)")
    if not text.strip(" \t\r\n\ufeff"):
        raise CorpusError(f"{name}: empty")
    return text


def _read(path: Path, data: bytes | None = None) -> str:
    return decode_document(path.read_bytes() if data is None else data, path.name)


def extract(path: Path, data: bytes | None = None, cache_dir: Path | None = None) -> Extracted:
    """The text of the document file `path` (its bytes in `data` when already read) as Footnote indexes it,
    with the fields the file states. Raises CorpusError naming the file when it cannot be read. With
    `cache_dir`, what is extracted from PDF, HTML, .docx and EPUB files is kept there (by content hash)."""
    fmt = format_of(path.name) or "text"
    if fmt in TEXT_FORMATS:
        data = path.read_bytes() if data is None else data
        check_content(path.name, fmt, data)
        text = _read(path, data)
        front, body_start = _front_matter(text)
        fields = {("languages" if key == "language" else key): value for key, value in front.items()}
        fields = {key: value for key, value in fields.items() if key in FIELDS and value}
        if fmt == "markdown":
            if body_start and not text[body_start:].strip():
                raise CorpusError(f"{path.name}: has front matter but no text")
            from index.formats.markdown import markdown_text  # markdown-it: only when a document needs it

            return Extracted(markdown_text(text[body_start:]), fmt, fields)
        return Extracted(text, fmt, fields, body_start=body_start)
    return read_binary(path.name, fmt, path.read_bytes() if data is None else data, cache_dir)


def scan_corpus(corpus_dir: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The document files of a corpus folder, sorted (reserved data files and hidden files excluded), and the
    document-named entries that cannot be documents, with why: a broken or looping symbolic link, a file name
    that is not valid UTF-8."""
    names, unusable = scan_corpus_names(corpus_dir)
    return [corpus_dir.joinpath(name) for name in names], unusable


def scan_corpus_names(corpus_dir: Path) -> tuple[list[str], list[tuple[Path, str]]]:
    """`scan_corpus` as the files' paths relative to `corpus_dir` ("/"-separated strings, in the same order):
    a load checks 131k files without making a Path of each (that cost ~1.2 s of a 1M-passage load)."""
    found: list[tuple[str, ...]] = []  # relative parts; os.walk + scandir, not pathlib: 14k files cost 0.8 s that way
    unusable: list[tuple[Path, str]] = []

    def walk(folder: str, parts: tuple[str, ...]) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if name[:1] == ".":
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):  # as pathlib's rglob: no symlinked folders
                        walk(entry.path, (*parts, name))
                        continue
                    if not _is_document_name(name):
                        continue
                    regular = entry.is_file()
                except OSError as exc:  # a symbolic link loop, a folder that cannot be listed
                    unusable.append((Path(entry.path), f"cannot be read ({exc.strerror or exc})"))
                    continue
                if not regular:
                    if entry.is_symlink():
                        unusable.append((Path(entry.path), f"broken symbolic link to {os.readlink(entry.path)!r}"))
                    continue
                if not name.isascii() and not _utf8_name(name):
                    unusable.append((Path(entry.path), "the file name is not valid UTF-8; rename the file"))
                    continue
                found.append((*parts, name))

    if corpus_dir.is_dir():
        walk(str(corpus_dir), ())
    found.sort()
    return ["/".join(parts) for parts in found], unusable


def document_files(corpus_dir: Path) -> list[Path]:
    """The document files of a corpus folder, sorted; the entries that cannot be documents are named in one
    warning each (see `scan_corpus`)."""
    names = document_names(corpus_dir)
    return [corpus_dir.joinpath(name) for name in names]


def document_names(corpus_dir: Path) -> list[str]:
    """`document_files` as paths relative to `corpus_dir` (see `scan_corpus_names`), the unusable entries named
    in one warning each."""
    names, unusable = scan_corpus_names(corpus_dir)
    for path, why in unusable:
        log.warning("skipping document %s: %s", printable_path(path), why)
    return names


def _utf8_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by os as lone surrogates
        return False
    return True


def printable_path(path: Path | str) -> str:
    """A path that can be printed and logged whatever its bytes (undecodable bytes as \\xNN)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


_SUFFIXES = tuple(FORMATS)  # every suffix has one dot: ending with one is what format_of finds


def _is_document_name(name: str) -> bool:
    lower = name.lower()  # (suffixes by endswith, not format_of: this runs 131k times in a large corpus' load)
    return lower.endswith(_SUFFIXES) and lower not in RESERVED_NAMES and not lower.startswith(_RESERVED_PREFIXES)


def read_data_file(path: Path, *, quiet: bool = False) -> bytes | None:
    """The bytes of a corpus data file (catalog.toml, glossary.toml, userdict.txt): None when there is none or it
    is not a regular file (a folder of that name, a broken link), which is said in one warning by the loader
    of that file (`quiet` for the other readers, e.g. the hash of an index's sources)."""
    try:
        if not path.is_file():
            if not quiet and (path.exists() or path.is_symlink()):
                log.warning("%s is not a file; ignored", printable_path(path))
            return None
        return path.read_bytes()
    except OSError as exc:
        if not quiet:
            log.warning("%s cannot be read (%s); ignored", printable_path(path), exc)
        return None


def load_catalog(corpus_dir: Path) -> dict[str, dict[str, object]]:
    path = corpus_dir / "catalog.toml"
    data = read_data_file(path)
    if data is None:
        return {}
    try:
        catalog = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        log.warning("%s is not valid TOML (%s); catalog ignored, fields will be inferred", path, exc)
        return {}
    entries: dict[str, dict[str, object]] = {}
    problems: list[str] = []
    for key, value in catalog.items():
        if not isinstance(value, dict):
            problems.append(f"[{key!r}] is not a table")
            continue
        entry: dict[str, object] = {}
        for name, field_value in value.items():
            checked = _catalog_value(name, field_value)
            if isinstance(checked, _Refused):
                problems.append(f"[{key!r}] {name}: {checked.why}")
            else:
                entry[name] = checked
        entries[str(key)] = entry
    if problems:
        log.warning("%s: values ignored (the fields are inferred instead): %s", path, "; ".join(problems))
    return entries


@dataclass(frozen=True)
class _Refused:
    why: str


def _catalog_value(name: str, value: object) -> object:
    """A catalog field checked for its type: a string for title/source/url, a calendar date for date, a string
    or a list of strings for languages. Unknown fields pass through (they are not used)."""
    if name == "date":
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            return value.isoformat()
        if not isinstance(value, str):
            return _Refused(f"{value!r} is not a date")
        return (
            _Refused(f"{value!r} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)")
            if check_date(value) is None
            else value.strip()
        )
    if name == "languages":
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return value
        return _Refused(f"{value!r} is not a language code or a list of them")
    if name in ("title", "source", "url") and not isinstance(value, str):
        return _Refused(f"{value!r} is not text")
    return value


_DATE_VALUE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def check_date(value: str) -> str | None:
    """`value` when it is a calendar date, a year-month or a year (YYYY-MM-DD, YYYY-MM, YYYY); else None."""
    match = _DATE_VALUE.match(value.strip())
    if not match:
        return None
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        date(year or 0, month or 1, day or 1)
    except ValueError:
        return None
    return value.strip() if 1 <= (year or 0) <= 9999 else None


def load_document(
    path: Path, doc_id: str, entry: dict[str, object], data: bytes | None = None, cache_dir: Path | None = None
) -> Document:
    """Read one document (its bytes in `data` when already read) with its catalog entry."""
    data = path.read_bytes() if data is None else data
    extracted = extract(path, data, cache_dir)
    text, body_start = extracted.text, extracted.body_start
    if not text[body_start:].strip():
        raise CorpusError(f"{path.name}: has front matter but no text" if body_start else f"{path.name}: empty")
    stated = "front matter" if extracted.format in TEXT_FORMATS else "document"
    values: dict[str, object] = {}
    origins: dict[str, str] = {}
    for name in FIELDS:
        if entry.get(name):
            values[name], origins[name] = entry[name], "catalog"
        elif extracted.fields.get(name):
            value = extracted.fields[name]
            if name == "date" and check_date(str(value)) is None:
                log.warning(
                    "%s: %s date %r is not a date (use YYYY, YYYY-MM or YYYY-MM-DD); inferred instead",
                    printable_path(path),
                    stated,
                    value,
                )
                continue
            values[name], origins[name] = value, stated
    if "title" not in values:
        values["title"], origins["title"] = _infer_title(text, body_start) or doc_id, "inferred"
    if "date" not in values:
        head = [line.strip() for line in text[body_start:].splitlines() if line.strip()][:_HEAD_LINES]
        datelines = [found[0] for line in head if _is_dateline(line) and (found := full_dates(line))]
        dates = full_dates(text)
        if datelines:  # "Gizmodo, published 2019-11-18" under the headline: the article's own date
            values["date"], origins["date"] = datelines[0].isoformat(), "dateline"
        else:
            values["date"] = max(dates).isoformat() if dates else ""
            origins["date"] = "inferred" if dates else "unknown"
    if "languages" not in values:
        values["languages"], origins["languages"] = _infer_languages(text[body_start:]), "inferred"
    for name in ("source", "url"):
        if name not in values:
            values[name], origins[name] = "", "unknown"
    divisions: tuple[tuple[int, str, int], ...] = ()
    if extracted.divisions:
        starts = paragraph_starts(text, body_start)
        divisions = tuple(
            (division.start, division.label, bisect.bisect_left(starts, division.start) + 1)
            for division in extracted.divisions
        )
    info = DocumentInfo(
        doc_id=doc_id,
        path=str(path),
        title=str(values["title"]),
        source=str(values["source"]),
        date=str(values["date"]),
        languages=_as_languages(values["languages"]),
        url=str(values["url"]),
        origins=origins,
        fingerprint=hashlib.sha256(data).hexdigest()[:16],
        format=extracted.format,
        divisions=divisions,
        division_kind=extracted.division_kind,
    )
    return Document(info, text, body_start, info.fingerprint)


def load_corpus(corpus_dir: Path) -> CorpusLoad:
    """Load every document of a corpus folder; bad documents are skipped with a warning naming the file."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    catalog = load_catalog(corpus_dir)
    documents: list[Document] = []
    files, unusable = scan_corpus(corpus_dir)
    skipped: list[tuple[Path, str]] = []
    for path, why in unusable:
        log.warning("skipping document %s: %s", printable_path(path), why)
        skipped.append((Path(printable_path(path)), why))
    for path in files:
        relative = path.relative_to(corpus_dir).as_posix()
        doc_id = relative.rsplit(".", 1)[0]
        try:
            documents.append(load_document(path, doc_id, catalog.get(relative) or catalog.get(path.name) or {}))
        except (CorpusError, OSError) as exc:
            log.warning("skipping document %s: %s", path, exc)
            skipped.append((path, str(exc)))
    if not documents:
        raise CorpusError(f"no readable documents in {corpus_dir}")
    return CorpusLoad(tuple(documents), tuple(skipped))


def corpus_fingerprint(documents: Sequence[Document], extra: Sequence[bytes] = ()) -> str:
    """A short hash over the documents (ids, text, catalog fields) and any extra data (glossary, userdict)."""
    digest = hashlib.sha256()
    for doc in documents:
        info = doc.info
        digest.update(info.doc_id.encode())
        digest.update(doc.fingerprint.encode())
        digest.update(repr((info.title, info.source, info.date, info.languages, info.url)).encode())
    for blob in extra:
        digest.update(blob)
    return digest.hexdigest()[:12]
