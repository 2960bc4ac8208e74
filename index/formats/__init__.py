"""Document formats: turn a file's bytes into the text Footnote indexes, cites and shows.

The text a reader returns is, by definition, the document's text: passages are spans of it and every excerpt is
a substring of it (the verbatim guarantee holds against this text, not against the file's bytes). Readers keep
what a person reading the original sees (paragraphs, headings, list items, table rows) and drop what they do not
(markup, link targets, page furniture). Each paragraph is one line, so `index.passages.split_document` cuts
passages at the same places the original's paragraphs end; a heading is a line of its own, so it starts a
passage rather than ending one.

Where the original has pages (PDF) or chapters (EPUB), the reader also returns where each starts in the text
(`Division`), so a citation can say "p. 12" or name the chapter: a place the reader can find in the original.

Plain text and Markdown are read by the core install. PDF (pypdfium2), HTML (trafilatura), Word .docx
(python-docx) and EPUB (ebooklib) need the `formats` extra; without it a document of those formats is skipped
with a message naming the command that installs it. Choices and measurements: docs/formats.md.

A broken file never raises anything but `CorpusError` with a message naming the file and what is wrong with it
(encrypted, no text layer, not what its extension says, a zip bomb, too large).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.errors import CorpusError

log = logging.getLogger(__name__)
INSTALL_FORMATS = "pip install 'footnote[formats]'"
MB = 1024 * 1024
MAX_BINARY_BYTES = 200 * MB  # a PDF, .docx or .epub larger than this is refused before it is parsed
MAX_HTML_TEXT_BYTES = 8 * MB  # an HTML page whose markup (without scripts, styles and inline data) is larger
MAX_UNZIPPED_BYTES = 256 * MB  # what a .docx / .epub may expand to
MAX_ZIP_RATIO = 200  # a member that expands more than this (and past 1 MB) is a zip bomb

# Suffix -> (format name, what a person calls it).
FORMATS: dict[str, tuple[str, str]] = {
    ".txt": ("text", "plain text"),
    ".md": ("markdown", "Markdown"),
    ".markdown": ("markdown", "Markdown"),
    ".pdf": ("pdf", "PDF"),
    ".html": ("html", "HTML page"),
    ".htm": ("html", "HTML page"),
    ".xhtml": ("html", "HTML page"),
    ".docx": ("docx", "Word document"),
    ".epub": ("epub", "EPUB book"),
}
TEXT_FORMATS = frozenset({"text", "markdown"})
# The readers' source files (relative to the index package): an index is rebuilt when one changes.
FORMAT_CODE = tuple(
    f"formats/{name}.py" for name in ("__init__", "text", "markdown", "pdf", "html", "docx", "epub", "ziparchive")
)


@dataclass(frozen=True)
class Division:
    """Where a page or chapter of the original starts in the extracted text, and what the original calls it."""

    start: int
    label: str  # a page's printed label ("12", "xii"), or a chapter's title


@dataclass(frozen=True)
class Extracted:
    """A document's text as Footnote reads it, with what the file itself says about it."""

    text: str
    format: str
    fields: dict[str, str] = field(default_factory=dict)  # title, date, languages, source, url the file states
    divisions: tuple[Division, ...] = ()
    division_kind: str = ""  # "page" or "chapter" when there are divisions
    body_start: int = 0  # where the text after front matter starts (plain text only)


def format_of(name: str) -> str | None:
    """The format a file name's suffix says, or None if Footnote does not read it."""
    lower = name.lower()
    dot = lower.rfind(".")
    entry = FORMATS.get(lower[dot:]) if dot >= 0 else None
    return entry[0] if entry else None


def describe(fmt: str) -> str:
    return next((what for name, what in FORMATS.values() if name == fmt), fmt)


def sniff(data: bytes) -> str | None:
    """What the bytes are, whatever the name says: "pdf", "zip", "html", "image", "binary", or None (text)."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF")):
        return "image"
    if head.startswith((b"\xd0\xcf\x11\xe0", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")):
        return "binary"
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in lowered:
        return "html"
    return None


_SNIFFED = {"pdf": "a PDF", "zip": "a zip archive", "html": "an HTML page", "image": "an image", "binary": "binary"}


def check_content(name: str, fmt: str, data: bytes) -> None:
    """Refuse a file whose content is not what its extension says, with a message naming both."""
    found = sniff(data)
    expected = {"pdf": ("pdf",), "docx": ("zip",), "epub": ("zip",)}.get(fmt, ("html", None))
    if expected is None or found in expected:
        return
    what = _SNIFFED.get(found, "plain text") if found else "plain text"
    raise CorpusError(f"{name}: the name says {describe(fmt)} but the content is {what}; rename or re-save it")


def missing_extra(name: str, fmt: str, module: str) -> CorpusError:
    return CorpusError(
        f"{name}: reading a {describe(fmt)} needs the `formats` extra ({module} is not installed): {INSTALL_FORMATS}"
    )


Reader = Callable[[str, bytes], Extracted]


@functools.cache
def _readers_key() -> str:
    """What an extraction depends on besides the file: the readers' code and the libraries' versions."""
    from importlib import metadata  # ~30 ms: only when a document's extraction is cached

    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for name in FORMAT_CODE:
        digest.update((package / name).read_bytes())
    for library in ("pypdfium2", "trafilatura", "python-docx", "ebooklib", "markdown-it-py", "lxml"):
        try:
            digest.update(f"{library} {metadata.version(library)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library} -".encode())
    return digest.hexdigest()[:16]


def _cache_file(cache_dir: Path, data: bytes) -> Path:
    return cache_dir / f"{hashlib.sha256(data).hexdigest()[:32]}-{_readers_key()}.json"


def prune_cache(cache_dir: Path, fingerprints: set[str]) -> int:
    """Delete the kept texts of files that are no longer documents (by the 16-character content fingerprint a
    DocumentInfo carries) or that older readers extracted; how many were deleted."""
    removed = 0
    try:
        entries = list(cache_dir.glob("*.json"))
    except OSError:
        return 0
    for entry in entries:
        content, _, readers = entry.stem.partition("-")
        if content[:16] not in fingerprints or readers != _readers_key():
            try:
                entry.unlink()
                removed += 1
            except OSError:
                pass  # another build removed it, or the folder is read-only: it is only a cache
    return removed


def _cached(cache_dir: Path, data: bytes, fmt: str) -> Extracted | None:
    try:
        with open(_cache_file(cache_dir, data), encoding="utf-8") as handle:
            stored = json.load(handle)
        return Extracted(
            stored["text"],
            fmt,
            dict(stored["fields"]),
            tuple(Division(start, label) for start, label in stored["divisions"]),
            stored["division_kind"],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(cache_dir: Path, data: bytes, extracted: Extracted) -> None:
    stored = asdict(extracted)
    stored["divisions"] = [[d.start, d.label] for d in extracted.divisions]
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".extract-", dir=cache_dir)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(stored, out, ensure_ascii=False)
        os.replace(temporary, _cache_file(cache_dir, data))
    except OSError as exc:
        log.debug("could not cache the text of a document in %s (%s)", cache_dir, exc)


def read_binary(name: str, fmt: str, data: bytes, cache_dir: Path | None = None) -> Extracted:
    """Extract the text of a PDF, HTML page, .docx or .epub (bytes of the file `name`). With `cache_dir` (in the
    data folder), the text is kept there by the file's hash, so loading an index does not extract it again."""
    if cache_dir is not None:
        cached = _cached(cache_dir, data, fmt)
        if cached is not None:
            return cached
    extracted = _read_binary(name, fmt, data)
    if cache_dir is not None:
        _store(cache_dir, data, extracted)
    return extracted


def _read_binary(name: str, fmt: str, data: bytes) -> Extracted:
    if len(data) > MAX_BINARY_BYTES:
        limit = MAX_BINARY_BYTES // MB
        raise CorpusError(f"{name}: {len(data) / MB:.0f} MB is more than the {limit} MB Footnote reads from a file")
    check_content(name, fmt, data)
    if fmt == "pdf":
        from index.formats.pdf import read_pdf as reader
    elif fmt == "html":
        from index.formats.html import read_html as reader
    elif fmt == "docx":
        from index.formats.docx import read_docx as reader
    elif fmt == "epub":
        from index.formats.epub import read_epub as reader
    else:
        raise CorpusError(f"{name}: Footnote does not read {fmt} files")
    try:
        extracted = reader(name, data)
    except CorpusError:
        raise
    except Exception as exc:  # a parser's own bug on a hostile file must not take the corpus down
        log.debug("%s: %s reader failed", name, fmt, exc_info=True)
        raise CorpusError(f"{name}: not a readable {describe(fmt)} ({type(exc).__name__}: {exc})") from exc
    if not extracted.text.strip():
        raise CorpusError(f"{name}: no text in this {describe(fmt)}")
    return extracted
