"""Adding a document to a corpus folder from bytes someone sent (Discord's /corpus add), and removing one.

Nothing is written until the document has passed every check, in this order: a file name that is a plain name
(no folder, no "..", not hidden, not one of the corpus' data files) with a suffix Footnote reads; a size within
the cap; content that is what the suffix says and that yields text (the same readers as the index, so a
document accepted here is a document the index reads). Characters a file name should not hold are replaced,
so the saved name can differ from the sent one (`Prepared.name` says which).

The file is written under a hidden temporary name in the corpus folder (the index and the folder watch skip
hidden files) and then linked to its name, which fails if a file of that name exists: no overwrite unless
`replace`, and two uploads of one name cannot both win. A title or date given with the upload goes to the
folder's catalog.toml (tomlkit keeps the catalog's comments and layout). `restore` undoes a save, for a reload
that fails afterwards.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from index.corpus import RESERVED_NAMES, _is_document_name, extract
from index.errors import CorpusError
from index.formats import FORMATS, MB, Extracted, format_of

DEFAULT_MAX_BYTES = 10 * MB
MAX_NAME_CHARS = 120
_UNSAFE_RE = re.compile(r"[^\w\-.()\[\]+,&' ]+")  # \w is Unicode: letters and digits of any script stay


@dataclass(frozen=True)
class Prepared:
    """A checked upload, not yet written."""

    name: str  # the file name it will have in the corpus folder
    path: Path
    data: bytes
    extracted: Extracted
    exists: bool  # a document of that name is there (saving it needs replace)

    @property
    def doc_id(self) -> str:
        return self.name.rsplit(".", 1)[0]


@dataclass(frozen=True)
class Saved:
    path: Path
    previous: bytes | None  # the replaced file's bytes, for `restore`
    previous_catalog: bytes | None  # catalog.toml before this save (None: there was none)
    catalog_changed: bool


def supported_suffixes() -> str:
    return ", ".join(sorted(FORMATS))


def clean_file_name(sent: str) -> str:
    """The name a sent file gets in the corpus folder; CorpusError (naming it) when it cannot be a document."""
    shown = sent if len(sent) <= 200 else sent[:199] + "…"
    if not sent or "/" in sent or "\\" in sent or "\0" in sent or sent.strip() in (".", ".."):
        raise CorpusError(f"{shown}: a document's name cannot contain a folder (/ or \\) or be empty")
    name = re.sub(r"\s", " ", unicodedata.normalize("NFC", sent)).strip()
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")  # control and format characters
    name = _UNSAFE_RE.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")  # no leading dot (hidden), no trailing dot or space
    if name.startswith("-"):
        name = "_" + name[1:]
    stem, dot, suffix = name.rpartition(".")
    if not dot or format_of(name) is None:
        raise CorpusError(f"{shown}: Footnote reads {supported_suffixes()} documents, not this kind of file")
    suffix = suffix.lower()
    stem = stem[: MAX_NAME_CHARS - len(suffix) - 1].rstrip(" .") or "document"
    name = f"{stem}.{suffix}"
    if not _is_document_name(name) or name.lower() in RESERVED_NAMES:
        raise CorpusError(f"{shown}: that name is kept for the corpus' own files (README, LICENSE, ...); rename it")
    return name


def prepare(corpus_dir: Path, sent_name: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Prepared:
    """Check an upload without writing anything; CorpusError with the reason (naming the file) when refused."""
    name = clean_file_name(sent_name)
    if len(data) > max_bytes:
        raise CorpusError(f"{name}: {len(data) / MB:.1f} MB is more than the {max_bytes / MB:g} MB a document may be")
    if not data.strip():
        raise CorpusError(f"{name}: the file is empty")
    folder = corpus_dir.resolve()
    if not folder.is_dir():
        raise CorpusError(f"the corpus folder {corpus_dir} does not exist")
    path = folder / name
    if path.parent != folder:  # cannot happen after clean_file_name; checked all the same
        raise CorpusError(f"{sent_name}: not a name inside the corpus folder")
    extracted = extract(path, data)  # the reader the index uses: refuses what it could not read
    if not extracted.text[extracted.body_start :].strip():
        raise CorpusError(f"{name}: no text in this document")
    existing = path.exists() or path.is_symlink()
    if existing and (path.is_symlink() or not path.is_file()):
        raise CorpusError(f"{name}: something that is not a plain document has that name in the corpus folder")
    return Prepared(name, path, data, extracted, existing)


def save(prepared: Prepared, *, replace: bool = False, title: str = "", when: str = "") -> Saved:
    """Write a prepared upload into the corpus folder, and its title and date into the catalog when given."""
    if when:
        try:
            date.fromisoformat(when)
        except ValueError:
            raise CorpusError(f"date {when!r} is not a date like 2025-12-31") from None
    path = prepared.path
    if prepared.exists and not replace:
        raise CorpusError(f"{prepared.name} is already in the corpus; add it with replace:true to replace it")
    previous = path.read_bytes() if replace and path.exists() else None
    handle, temporary = tempfile.mkstemp(prefix=".upload-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(prepared.data)
        if replace:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)  # fails if the name exists: an upload never overwrites by accident
            except FileExistsError:
                raise CorpusError(
                    f"{prepared.name} is already in the corpus; add it with replace:true to replace it"
                ) from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    catalog = path.parent / "catalog.toml"
    before = catalog.read_bytes() if catalog.exists() else None
    changed = False
    if title or when:
        try:
            _catalog_set(catalog, prepared.name, {"title": title.strip(), "date": when})
            changed = True
        except CorpusError:
            _undo(path, previous)
            raise
    return Saved(path, previous, before, changed)


def restore(saved: Saved) -> None:
    """Undo `save`: the replaced file back (or the new one removed), the catalog as it was."""
    _undo(saved.path, saved.previous)
    if saved.catalog_changed:
        catalog = saved.path.parent / "catalog.toml"
        if saved.previous_catalog is None:
            catalog.unlink(missing_ok=True)
        else:
            _write_atomically(catalog, saved.previous_catalog)


def remove(corpus_dir: Path, name: str) -> Path:
    """Delete the document `name` (a path relative to the corpus folder, as listed) and its catalog entry."""
    folder = corpus_dir.resolve()
    path = (folder / name).resolve() if name and "\0" not in name else folder
    if folder not in path.parents:  # "..", an absolute path, a symlink out of the folder
        raise CorpusError(f"{name!r}: not a document of the corpus")
    if not path.is_file() or not _is_document_name(path.name) or any(p.startswith(".") for p in Path(name).parts):
        raise CorpusError(f"{name}: no such document in the corpus")
    path.unlink()
    catalog = folder / "catalog.toml"
    if catalog.exists():
        _catalog_set(catalog, path.relative_to(folder).as_posix(), None)
    return path


def _undo(path: Path, previous: bytes | None) -> None:
    if previous is None:
        path.unlink(missing_ok=True)
    else:
        _write_atomically(path, previous)


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=".upload-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _catalog_set(catalog: Path, key: str, fields: dict[str, str] | None) -> None:
    """Set (or, with None, delete) one document's entry of catalog.toml, keeping everything else as it was."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        document = tomlkit.parse(catalog.read_text(encoding="utf-8")) if catalog.exists() else tomlkit.document()
    except (TOMLKitError, UnicodeDecodeError) as exc:
        raise CorpusError(
            f"catalog.toml cannot be read ({exc}); fix it, or add the document without title or date"
        ) from None
    if fields is None:
        if key not in document:
            return
        del document[key]
    else:
        entry = document.get(key)
        if entry is None:
            entry = tomlkit.table()
            document[key] = entry
        for name, value in fields.items():
            if value:
                entry[name] = value
    _write_atomically(catalog, tomlkit.dumps(document).encode("utf-8"))
