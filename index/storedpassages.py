"""The passages of a loaded index as a sequence that builds each `Passage` when it is asked for.

An index file keeps every passage's coordinates as arrays (document, paragraph, start, end, label) and its text
in one UTF-8 block with byte offsets (index/indexfile.py). Loading a million passages as Python objects took
~20 s and ~1 GB; `StoredPassages` keeps the arrays (memory-mapped from the index file) and decodes a passage's
text from the block only when a query, an answer or a command reads it. Whole-corpus walks (timeline, quotes,
digests) iterate it in chunks, building the objects as they go and dropping them after.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import overload

import numpy as np

from index.passages import Location, Passage

_CHUNK = 16_384  # passages whose coordinates are converted to Python at once when iterating
# Passages recently read by index (a question reads its candidates' passages several times: excerpt, merge,
# facts); ~1.5 KB each. lru_cache is thread-safe.
PASSAGE_CACHE = 4096


class StoredPassages(Sequence[Passage]):
    """A read-only sequence of `Passage`, pid i at index i, each built on access from the index's arrays."""

    def __init__(
        self,
        doc_ids: Sequence[str],
        p_doc: np.ndarray,
        p_paragraph: np.ndarray,
        p_start: np.ndarray,
        p_end: np.ndarray,
        p_label: np.ndarray,
        labels: Sequence[str],
        duplicates: Mapping[int, tuple[Location, ...]],
        text_block: np.ndarray,
        text_ptr: np.ndarray,
    ) -> None:
        n = len(p_doc)
        if not (len(p_paragraph) == len(p_start) == len(p_end) == len(p_label) == len(text_ptr) - 1 == n):
            raise ValueError("passage arrays of different lengths")
        self._doc_ids = list(doc_ids)
        self._doc = p_doc
        self._paragraph = p_paragraph
        self._start = p_start
        self._end = p_end
        self._label = p_label
        self._names: list[str | None] = [None, *labels]  # p_label + 1: -1 is no label
        self._duplicates = duplicates
        self._block = text_block
        self._ptr = text_ptr
        self._cached = functools.lru_cache(maxsize=PASSAGE_CACHE)(self._build)

    def __len__(self) -> int:
        return len(self._doc)

    @overload
    def __getitem__(self, index: int) -> Passage: ...

    @overload
    def __getitem__(self, index: slice) -> list[Passage]: ...

    def __getitem__(self, index: int | slice) -> Passage | list[Passage]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        pid = int(index)
        if pid < 0:
            pid += len(self)
        if not 0 <= pid < len(self):
            raise IndexError(f"passage {index} out of range")
        return self._cached(pid)

    def _build(self, pid: int) -> Passage:
        a, b = int(self._ptr[pid]), int(self._ptr[pid + 1])
        return Passage(
            pid,
            self._doc_ids[int(self._doc[pid])],
            int(self._paragraph[pid]),
            int(self._start[pid]),
            int(self._end[pid]),
            self._block[a:b].tobytes().decode("utf-8", "surrogatepass"),
            self._names[int(self._label[pid]) + 1],
            self._duplicates.get(pid, ()),
        )

    def __iter__(self) -> Iterator[Passage]:
        doc_ids, names, duplicates = self._doc_ids, self._names, self._duplicates
        for lo in range(0, len(self), _CHUNK):
            hi = min(lo + _CHUNK, len(self))
            ptr = self._ptr[lo : hi + 1].tolist()
            base = ptr[0]
            block = self._block[base : ptr[-1]].tobytes()
            columns = zip(
                self._doc[lo:hi].tolist(),
                self._paragraph[lo:hi].tolist(),
                self._start[lo:hi].tolist(),
                self._end[lo:hi].tolist(),
                self._label[lo:hi].tolist(),
                strict=True,
            )
            for i, (d, paragraph, start, end, label) in enumerate(columns):
                pid = lo + i
                text = block[ptr[i] - base : ptr[i + 1] - base].decode("utf-8", "surrogatepass")
                yield Passage(pid, doc_ids[d], paragraph, start, end, text, names[label + 1], duplicates.get(pid, ()))

    def document_counts(self) -> dict[str, int]:
        """Passages per document id (documents without passages left out), without building passages."""
        counts = np.bincount(self._doc, minlength=len(self._doc_ids)) if len(self._doc) else ()
        return {self._doc_ids[i]: int(c) for i, c in enumerate(counts) if c}

    def pids_of(self, doc_id: str) -> list[int]:
        """The pids of one document's passages in order, without building passages."""
        try:
            number = self._doc_ids.index(doc_id)
        except ValueError:
            return []
        return np.flatnonzero(self._doc == number).tolist()

    def document_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """Each passage's document (as its number in the index) and paragraph, without building passages."""
        return self._doc, self._paragraph


def paragraph_keys(passages: Sequence[Passage]) -> tuple[np.ndarray, np.ndarray]:
    """Each passage's document (a number: equal for passages of the same document, numbered in the order the
    documents first come) and paragraph, as int64 arrays."""
    if isinstance(passages, StoredPassages):
        documents, paragraphs = passages.document_keys()
        return documents.astype(np.int64), paragraphs.astype(np.int64)
    number: dict[str, int] = {}
    documents_of = np.fromiter((number.setdefault(p.doc_id, len(number)) for p in passages), np.int64, len(passages))
    return documents_of, np.fromiter((p.paragraph for p in passages), np.int64, len(passages))
