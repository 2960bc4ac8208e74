"""The documents of a loaded index as a sequence that builds each `DocumentInfo` when it is asked for.

An index file keeps the documents' catalog fields column by column (one JSON list per field, the origins and
languages as small tables, divisions only for the documents that have them). As one JSON object per
document, 131k documents took ~1.4 s to decode and another ~1.2 s to turn into `DocumentInfo` objects on every
load, though a question reads the documents of its few answers. `StoredDocuments` keeps the columns and builds
a document when it is read; `DocumentTable` is the engine's `documents` mapping (doc_id -> DocumentInfo) over
any sequence of documents.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

from index.corpus import DocumentInfo

# The fields stored as plain columns (one string per document); the others have encodings of their own.
_SPECIAL = ("languages", "origins", "divisions")
_COLUMNS = tuple(f.name for f in dataclasses.fields(DocumentInfo) if f.name not in _SPECIAL)


def document_columns(documents: Sequence[DocumentInfo]) -> dict[str, Any]:
    """The documents' fields, column by column, as JSON-ready lists (read back by `StoredDocuments.from_columns`)."""
    origin_tables: dict[str, int] = {}
    origin_of: list[int] = []
    for info in documents:
        key = json.dumps(info.origins, ensure_ascii=False, separators=(",", ":"))
        origin_of.append(origin_tables.setdefault(key, len(origin_tables)))
    return {
        "columns": {name: [getattr(info, name) for info in documents] for name in _COLUMNS},
        # A language tag never holds a comma ("en", "zh-Hans").
        "languages": [",".join(info.languages) for info in documents],
        "origins": [json.loads(key) for key in origin_tables],
        "origin_of": origin_of,
        "divisions": {str(i): [list(d) for d in info.divisions] for i, info in enumerate(documents) if info.divisions},
    }


class StoredDocuments(Sequence[DocumentInfo]):
    """A read-only sequence of `DocumentInfo`, each built on first access from the stored columns."""

    def __init__(self, stored: Mapping[str, Any]) -> None:
        try:
            columns = stored["columns"]
            self._columns = [columns[name] for name in _COLUMNS]
            self._languages: list[str] = stored["languages"]
            self._origins: list[dict[str, str]] = stored["origins"]
            self._origin_of: list[int] = stored["origin_of"]
            self._divisions: dict[str, list[list[Any]]] = stored["divisions"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"documents not stored as columns ({exc})") from exc
        count = len(self._languages)
        if any(len(column) != count for column in self._columns) or len(self._origin_of) != count:
            raise ValueError("document columns of different lengths")
        self._built: list[DocumentInfo | None] = [None] * count

    @property
    def doc_ids(self) -> list[str]:
        return self._columns[_COLUMNS.index("doc_id")]

    def column(self, name: str) -> list[Any]:
        """One plain field of every document (doc_id, path, title, source, date, url, fingerprint, format,
        division_kind), without building the documents."""
        return self._columns[_COLUMNS.index(name)]

    def __len__(self) -> int:
        return len(self._built)

    @overload
    def __getitem__(self, index: int) -> DocumentInfo: ...

    @overload
    def __getitem__(self, index: slice) -> list[DocumentInfo]: ...

    def __getitem__(self, index: int | slice) -> DocumentInfo | list[DocumentInfo]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = int(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"document {index} out of range")
        info = self._built[i]
        if info is None:
            info = self._built[i] = self._build(i)
        return info

    def __iter__(self) -> Iterator[DocumentInfo]:
        for i in range(len(self)):
            yield self[i]

    def _build(self, i: int) -> DocumentInfo:
        fields: dict[str, Any] = {name: column[i] for name, column in zip(_COLUMNS, self._columns, strict=True)}
        languages = self._languages[i]
        fields["languages"] = tuple(languages.split(",")) if languages else ()
        fields["origins"] = dict(self._origins[self._origin_of[i]])
        fields["divisions"] = tuple(tuple(d) for d in self._divisions.get(str(i), ()))
        return DocumentInfo(**fields)


class DocumentTable(Mapping[str, DocumentInfo]):
    """doc_id -> DocumentInfo over a sequence of documents (a list, or `StoredDocuments`, whose documents are
    then built only when read)."""

    def __init__(self, documents: Sequence[DocumentInfo]) -> None:
        ids = documents.doc_ids if isinstance(documents, StoredDocuments) else [doc.doc_id for doc in documents]
        self._index = {doc_id: i for i, doc_id in enumerate(ids)}
        self._documents = documents

    def __getitem__(self, doc_id: str) -> DocumentInfo:
        return self._documents[self._index[doc_id]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._index

    def field(self, name: str) -> dict[str, Any]:
        """doc_id -> one plain field of each document (see `StoredDocuments.column`): a whole-corpus walk over
        one field that builds no documents (131k of them took ~1.2 s to build)."""
        if isinstance(self._documents, StoredDocuments):
            return dict(zip(self._documents.doc_ids, self._documents.column(name), strict=True))
        return {doc.doc_id: getattr(doc, name) for doc in self._documents}
