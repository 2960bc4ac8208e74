"""Duplicate detection: which passages are exact or near duplicates of an earlier one (the first is kept and
remembers where the others stood).

Identity is the duplicate key (folded text without spaces and punctuation); a near duplicate has character
4-gram Jaccard >= 0.85 with a kept passage. Either must also state the same facts (`facts`: numbers, dates,
names): "2024 ... 3.7 billion" and "2025 ... 12.7 billion" are two statements, and "3.7" and "37" share a key.
Where a dropped passage stood is recorded (and cited with the kept one) only when its text is verbatim the kept
one's (`same_text`): a citation is only ever attached to text that is in the cited document.

Candidates come from MinHash signatures (12 hashes) in 6 bands of 2
rows (LSH). `collapse_duplicates` is the reference over Passage objects; the build uses `_collapse`, the same
decisions over the analysis' precomputed signatures, deciding again only what a corpus change can reach
(tested equal to the reference in tests/index/test_build.py).

Why hand-written rather than datasketch: datasketch 2.0.0 (MinHash + MinHashLSH with the same 12 hashes in 6
bands of 2 rows) took 2.2x the time of these functions on the same 3,000 passage keys (the seeds and
../shared/bench, split by the build's splitter), interleaved in one process, median of 3 rounds; signatures alone
took 1.7x. Its LSH is also a dict updated per insert, where the build groups the band keys of all rows at once
with numpy and keeps decisions between builds."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from index.arrays import ranges
from index.normalize import fold
from index.passages import Location, Passage

if TYPE_CHECKING:
    from index.analysis import _Analysis
    from index.corpus import Document

log = logging.getLogger(__name__)


# -- duplicates ---------------------------------------------------------------------------------------------

_SHINGLE = 4
_NUM_HASHES = 12
_BAND_ROWS = 2
_NEAR_DUPLICATE = 0.85
_MERSENNE = (1 << 61) - 1


@functools.cache
def _hash_family() -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of the _NUM_HASHES MinHash functions a * x + b, drawn once from a fixed seed (here rather than
    at import: numpy.random is ~10 ms of a cold `footnote ask`, which never computes a signature)."""
    rng = np.random.default_rng(20251201)
    return (
        rng.integers(1, _MERSENNE, size=_NUM_HASHES, dtype=np.uint64),
        rng.integers(0, _MERSENNE, size=_NUM_HASHES, dtype=np.uint64),
    )


_MINHASH_MIN_KEY = 20  # passages whose duplicate key is shorter are only matched exactly
# Of the kept passages sharing a band with a new one, only the latest this many are candidates: without a bound,
# 100k short passages of a few words from a small vocabulary share bands with thousands each (497 s at 100k).
_BAND_CANDIDATES = 16


def _match_key(text: str) -> str:
    """Folded text without spaces and punctuation: the identity used for duplicate detection."""
    return re.sub(r"[\W_]+", "", fold(text))


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of 64-bit numbers that scatters the structured 4-gram numbers (so
    the (a * x + b) family below sees random-looking inputs) without hashing each 4-gram's bytes."""
    x = values.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _shingles(key: str) -> set[int]:
    """The key's distinct character 4-grams (the whole key when shorter) as scattered 64-bit numbers."""
    return set(_mix(_gram_hashes(key)).tolist())


def _minhash(shingles: set[int]) -> np.ndarray:
    values = np.fromiter(shingles, dtype=np.uint64, count=len(shingles))
    # (a * x + b) mod 2^64: a cheap universal-ish family; collisions only cost an exact check.
    hash_a, hash_b = _hash_family()
    hashed = values[None, :] * hash_a[:, None] + hash_b[:, None]
    return hashed.min(axis=1)


def signatures(keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """`_minhash(_shingles(key))` and `len(_shingles(key))` of many keys at once, with numpy over all their
    4-grams together (a build computes them for every passage): (n, _NUM_HASHES) signatures and the distinct
    4-gram counts. Every key must have at least _SHINGLE characters."""
    n = len(keys)
    if not n:
        return np.zeros((0, _NUM_HASHES), dtype=np.uint64), np.zeros(0, dtype=np.int32)
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=n)
    if int(lengths.min()) < _SHINGLE:
        raise ValueError("signatures() needs keys of at least 4 characters")
    codes = np.frombuffer("".join(keys).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    grams = codes[: len(codes) - _SHINGLE + 1].copy()
    for offset in range(1, _SHINGLE):
        grams *= _GRAM_BASE
        grams += codes[offset : len(codes) - _SHINGLE + 1 + offset]
    # The 4-grams that lie inside one key: a key of length L starts L - 3 of them.
    counts = lengths - (_SHINGLE - 1)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    values = _mix(grams[ranges(starts, starts + counts)])
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    minhash = np.empty((n, _NUM_HASHES), dtype=np.uint64)
    hash_a, hash_b = _hash_family()
    for i in range(_NUM_HASHES):
        minhash[:, i] = np.minimum.reduceat(values * hash_a[i] + hash_b[i], first)
    owner = np.repeat(np.arange(n), counts)
    order = np.lexsort((values, owner))
    ordered, owners = values[order], owner[order]
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]) | (owners[1:] != owners[:-1])
    distinct = np.bincount(owners[new], minlength=n).astype(np.int32)
    return minhash, distinct


_NUMBER = re.compile(r"\d+(?:[.,:/]\d+)*")
_LATIN_NAME = re.compile(r"[A-Za-z0-9]*[A-Z][A-Za-z0-9]*")


def facts(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What two texts must share to say the same thing: their numbers (figures, years, dates, in any width) and
    their capitalised Latin words (names, months), each as a set. Near duplicates whose facts differ ("2024 ...
    3.7 billion" vs "2025 ... 12.7 billion") are different statements and are never merged."""
    # NFKC is all of `fold` that digits and their separators see (traditional -> simplified and lower case
    # leave them alone), and a build asks this of every candidate passage.
    normal = unicodedata.normalize("NFKC", text)
    return tuple(sorted(set(_NUMBER.findall(normal)))), tuple(sorted(set(_LATIN_NAME.findall(normal))))


def same_text(a: str, b: str) -> bool:
    """Verbatim the same text (spacing aside): the only case where one passage's citation may stand for the
    other's text."""
    return a == b or a.split() == b.split()


def collapse_duplicates(passages: Sequence[Passage]) -> list[Passage]:
    """Drop exact and near-duplicate passages stating the same facts, keeping the first; record where a dropped
    one stood only when its text is verbatim the kept one's."""
    kept: list[Passage] = []
    extra: dict[int, list[Location]] = {}
    by_key: dict[str, list[int]] = {}
    buckets: dict[tuple[int, bytes], list[int]] = {}
    shingle_sets: list[set[int]] = []
    for passage in passages:
        key = _match_key(passage.text)
        if not key:
            continue
        mine = facts(passage.text)  # the same key may still differ in figures: "3.7 billion" and "37 billion"
        target = next((index for index in by_key.get(key, ()) if facts(kept[index].text) == mine), None)
        shingles = _shingles(key)
        if target is None and len(key) >= _MINHASH_MIN_KEY:
            signature = _minhash(shingles)
            bands = [
                (band, signature[band * _BAND_ROWS : (band + 1) * _BAND_ROWS].tobytes())
                for band in range(_NUM_HASHES // _BAND_ROWS)
            ]
            candidates = {index for band in bands for index in buckets.get(band, ())[-_BAND_CANDIDATES:]}
            for index in sorted(candidates):
                other = shingle_sets[index]
                if len(shingles & other) / len(shingles | other) >= _NEAR_DUPLICATE and facts(kept[index].text) == mine:
                    target = index
                    break
            if target is None:
                for band in bands:
                    buckets.setdefault(band, []).append(len(kept))
        if target is not None:
            original = kept[target]
            moved = original.doc_id != passage.doc_id or original.paragraph != passage.paragraph
            if moved and same_text(original.text, passage.text):
                extra.setdefault(target, []).append(passage.location)
            continue
        by_key.setdefault(key, []).append(len(kept))
        shingle_sets.append(shingles)
        kept.append(passage)
    return [
        Passage(pid, p.doc_id, p.paragraph, p.start, p.end, p.text, p.label, tuple(extra.get(pid, ())))
        for pid, p in enumerate(kept)
    ]


_KEY_STRIP = re.compile(r"[\W_]+")


def _duplicate_key(folded: str) -> str:
    """index.passages' duplicate key (folded text without spaces and punctuation) of already-folded text."""
    return _KEY_STRIP.sub("", folded)


# -- duplicates over precomputed signatures ---------------------------------------------------------------

# A candidate pair is compared exactly only when at least this many of its 12 minhash values agree. A pair at
# the near-duplicate threshold (Jaccard 0.85) agrees on fewer with probability 7e-5, below the 5e-4 at which
# the 2-row bands miss it in the first place; a pair that merely shares a sentence (Jaccard ~0.1) almost never
# passes, and in a 100k-passage corpus such pairs are most band candidates.
_MIN_AGREEMENT = 5
_BAND_MIX = np.uint64(0x9E3779B97F4A7C15)


_GRAM_BASE = np.uint64(0x110000)  # one more than the largest code point


def _gram_hashes(key: str) -> np.ndarray:
    """The distinct character 4-grams of a duplicate key as sorted 64-bit numbers (base-0x110000 digits,
    wrapping: two different 4-grams collide with probability ~2**-64), for exact Jaccard by intersection."""
    codes = np.frombuffer(key.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) <= _SHINGLE:
        grams = np.zeros(1, dtype=np.uint64)
        for code in codes:
            grams = grams * _GRAM_BASE + code
        return grams
    grams = codes[: len(codes) - _SHINGLE + 1].copy()
    for offset in range(1, _SHINGLE):
        grams *= _GRAM_BASE
        grams += codes[offset : len(codes) - _SHINGLE + 1 + offset]
    return np.unique(grams)


KEPT, SKIPPED, UNDECIDED = -1, -2, -3  # a row's decision; a row that is a duplicate holds its target's row


def _previous_decisions(
    order: np.ndarray, rows: np.ndarray, doc_sizes: np.ndarray, decisions: np.ndarray, ranks: np.ndarray
) -> np.ndarray:
    """The token cache's duplicate decisions for this build's rows (corpus order): `order` is each document's
    analysis (cache documents first), `rows` each row's analysis row, `doc_sizes` each analysed document's row
    count. A decision is kept for documents that come from the cache once and in their previous order relative
    to each other (the longest such run: a moved or renamed document counts as new); other rows are UNDECIDED,
    and `_collapse` checks the targets of the rest."""
    n_cache_docs = len(ranks)
    from_cache = order < n_cache_docs
    rank = np.full(len(order), -1, dtype=np.int64)
    rank[from_cache] = ranks[order[from_cache]]
    single = np.bincount(order, minlength=int(order.max()) + 1)[order] == 1 if len(order) else from_cache
    candidates = np.flatnonzero(from_cache & (rank >= 0) & single)
    steady = np.zeros(len(order), dtype=bool)
    steady[candidates[_increasing_run(rank[candidates].tolist())]] = True
    previous = np.full(int(doc_sizes.sum()), UNDECIDED, dtype=np.int64)
    previous[: len(decisions)] = decisions
    position = np.full(len(previous), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    mine = previous[rows]
    target = position[np.maximum(mine, 0)]
    mapped = np.where(mine >= 0, np.where(target >= 0, target, UNDECIDED), mine)
    mapped[~np.repeat(steady, doc_sizes[order])] = UNDECIDED
    return mapped


def _increasing_run(values: list[int]) -> np.ndarray:
    """Indices of a longest strictly increasing subsequence of `values` (patience sorting)."""
    tails: list[int] = []  # tails[k]: index of the smallest last value of an increasing run of length k + 1
    before = [-1] * len(values)
    for i, value in enumerate(values):
        k = _bisect_tails(values, tails, value)
        if k:
            before[i] = tails[k - 1]
        if k == len(tails):
            tails.append(i)
        else:
            tails[k] = i
    run: list[int] = []
    i = tails[-1] if tails else -1
    while i >= 0:
        run.append(i)
        i = before[i]
    return np.asarray(run[::-1], dtype=np.int64)


def _bisect_tails(values: list[int], tails: list[int], value: int) -> int:
    low, high = 0, len(tails)
    while low < high:
        middle = (low + high) // 2
        if values[tails[middle]] < value:
            low = middle + 1
        else:
            high = middle
    return low


def _collapse(
    documents: Sequence[Document],
    analysis: _Analysis,
    *,
    texts: bool = True,
    previous: np.ndarray | None = None,
) -> tuple[list[Passage], np.ndarray, np.ndarray]:
    """`index.passages.collapse_duplicates` over the analysed rows: rows are taken in order; a row whose key
    equals a kept row's (and states the same facts) is a duplicate of it; otherwise the latest
    `_BAND_CANDIDATES` kept rows of each minhash band it shares are candidates, in order, compared by exact
    Jaccard of their character 4-grams (>= 0.85). Signatures come
    from the (parallel, cached) analysis, candidates are first filtered by minhash agreement and by size
    (Jaccard <= smaller / larger shingle count), and 4-gram sets are built only for the few left.

    `previous` holds each row's decision in the last build where it is still valid (KEPT, SKIPPED or the row
    it duplicates, all in this row order; UNDECIDED for new rows and rows whose document moved). Only the
    undecided rows are decided, plus the rows a changed decision can reach: when a row becomes kept or stops
    being kept, every later row sharing a band or a key with it is decided again. The result is the same as
    deciding every row (tested against the reference). Returns the kept passages (numbered), their rows, and
    every row's decision."""
    n_rows = len(analysis.key_len)
    doc_of_row = np.repeat(np.arange(len(documents)), np.diff(analysis.doc_ptr)).tolist()
    starts = analysis.start.tolist()
    ends = analysis.end.tolist()
    gram_sizes = np.asarray(analysis.grams)
    minhashes = np.asarray(analysis.minhash)

    def text(row: int) -> str:
        return documents[doc_of_row[row]].text[starts[row] : ends[row]]

    @functools.lru_cache(maxsize=8192)  # ~20 MB: 4-gram sets of every candidate would take gigabytes
    def shingles(row: int) -> np.ndarray:
        return _gram_hashes(_duplicate_key(fold(text(row))))

    # What each row states (`facts`), as a number per distinct statement, computed once per row when first asked.
    fact_ids = np.full(n_rows, -1, dtype=np.int64)
    statements: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = {}

    def facts_ids(rows: np.ndarray) -> np.ndarray:
        for row in rows[fact_ids[rows] < 0].tolist():
            fact_ids[row] = statements.setdefault(facts(text(row)), len(statements))
        return fact_ids[rows]

    def facts_of(row: int) -> int:
        return int(facts_ids(np.asarray([row]))[0]) if fact_ids[row] < 0 else int(fact_ids[row])

    def near_duplicate(row: int, candidates: list[int]) -> int:
        # Cheap filters on all candidates at once: Jaccard is at most the smaller 4-gram set's size over the
        # larger's, and a near duplicate agrees on at least _MIN_AGREEMENT of its 12 minhash values.
        others = np.asarray(candidates, dtype=np.int64)
        size, sizes = gram_sizes[row], gram_sizes[others]
        possible = np.minimum(size, sizes) >= _NEAR_DUPLICATE * np.maximum(size, sizes)
        possible &= (minhashes[others] == minhashes[row]).sum(axis=1) >= _MIN_AGREEMENT
        others = others[possible]
        others = others[facts_ids(others) == facts_of(row)]  # cheaper than the exact Jaccard, and as final
        for other in others.tolist():
            a, b = shingles(row), shingles(other)
            common = len(np.intersect1d(a, b, assume_unique=True))
            if common / (len(a) + len(b) - common) >= _NEAR_DUPLICATE:
                return other
        return KEPT

    groups = _RowGroups(analysis)
    decision = np.full(n_rows, UNDECIDED, dtype=np.int64) if previous is None else previous.astype(np.int64)
    decision[analysis.key_len == 0] = SKIPPED
    # A duplicate's previous decision holds only if its target is still kept, earlier, and decided as before.
    target = np.maximum(decision, 0)
    invalid = (decision >= 0) & ((target >= np.arange(n_rows)) | (decision[target] != KEPT))
    decision[invalid] = UNDECIDED
    was_kept = decision == KEPT
    pending = set(np.flatnonzero(decision == UNDECIDED).tolist())
    status = decision.tolist()
    # The kept rows so far of each key group and of each band group, in row order: a row's candidates are the
    # first kept row of its key group with the same facts, else the last _BAND_CANDIDATES kept rows of each of
    # its band groups. Bounded, so many similar short passages (a few words from a small vocabulary) cost
    # rows x bands x _BAND_CANDIDATES checks, not rows x rows.
    kept_by_key: dict[int, list[int]] = {}
    kept_by_band: list[dict[int, list[int]]] = [{} for _ in range(groups.bands)]
    decided = 0
    for row in range(n_rows):
        key_group = groups.key_group(row)
        band_groups = groups.band_groups(row)
        if row in pending:
            decided += 1
            found = next(
                (other for other in kept_by_key.get(key_group, ()) if facts_of(other) == facts_of(row)), KEPT
            )  # the same key may still differ in figures: "3.7" and "37"
            if found == KEPT:
                candidates = sorted(
                    {
                        other
                        for band, group in enumerate(band_groups)
                        if group >= 0
                        for other in kept_by_band[band].get(group, ())[-_BAND_CANDIDATES:]
                    }
                )
                if candidates:
                    found = near_duplicate(row, candidates)
            status[row] = found
            if previous is not None and (found == KEPT) != bool(was_kept[row]):
                # Later rows decided in the last build may depend on this one: decide them again.
                for other in (*groups.same_key(row), *groups.same_band(row)):
                    if other > row and status[other] != SKIPPED:
                        pending.add(other)
        if status[row] == KEPT:
            if key_group >= 0:
                kept_by_key.setdefault(key_group, []).append(row)
            for band, group in enumerate(band_groups):
                if group >= 0:
                    kept_by_band[band].setdefault(group, []).append(row)
    log.debug("duplicates: %d of %d passages decided (the rest as in the last build)", decided, n_rows)
    decision = np.asarray(status, dtype=np.int64)
    kept = np.flatnonzero(decision == KEPT)
    pid_of = np.full(n_rows, -1, dtype=np.int64)
    pid_of[kept] = np.arange(len(kept))
    paragraph = analysis.paragraph.tolist()
    extra: dict[int, list[Location]] = {}
    for row in np.flatnonzero(decision >= 0).tolist():
        original = int(decision[row])
        doc_id = documents[doc_of_row[row]].doc_id
        moved = documents[doc_of_row[original]].doc_id != doc_id or paragraph[original] != paragraph[row]
        # Cited too only when verbatim the kept text: a citation is only ever attached to text in its document.
        if moved and same_text(text(original), text(row)):
            extra.setdefault(int(pid_of[original]), []).append(Location(doc_id, paragraph[row], starts[row], ends[row]))
    label = analysis.label.tolist()
    passages = [
        Passage(
            pid,
            documents[doc_of_row[row]].doc_id,
            paragraph[row],
            starts[row],
            ends[row],
            text(row) if texts else "",
            None if label[row] < 0 else analysis.labels[label[row]],
            tuple(extra.get(pid, ())),
        )
        for pid, row in enumerate(kept.tolist())
    ]
    return passages, kept, decision


class _RowGroups:
    """Rows with the same duplicate key, and rows sharing a minhash band key (rows of keys of 20 characters or
    more), each group in row order. Groups of one are left out."""

    def __init__(self, analysis: _Analysis) -> None:
        n_rows = len(analysis.key_len)
        hashes = np.ascontiguousarray(analysis.key_hash).view(np.dtype((np.void, 16))).ravel()
        keyed = np.flatnonzero(analysis.key_len > 0)
        self._key = self._group(keyed, np.unique(hashes[keyed], return_inverse=True)[1].ravel(), n_rows)
        pairs = analysis.minhash.reshape(n_rows, _NUM_HASHES // _BAND_ROWS, _BAND_ROWS)
        band_keys = pairs[:, :, 0] * _BAND_MIX  # one 64-bit key per band (a collision only adds a candidate)
        for column in range(1, _BAND_ROWS):
            band_keys = (band_keys ^ pairs[:, :, column]) * _BAND_MIX
        signed = np.flatnonzero(analysis.key_len >= _MINHASH_MIN_KEY)
        self._bands = [
            self._group(signed, np.unique(band_keys[signed, band], return_inverse=True)[1].ravel(), n_rows)
            for band in range(band_keys.shape[1])
        ]

    @staticmethod
    def _group(rows: np.ndarray, labels: np.ndarray, n_rows: int) -> tuple[list[int], list[int], list[int]]:
        """For groups of two rows or more: each row's group start (-1 when alone), where each group ends (by
        start), and the rows sorted by group (in row order within one), as lists for the Python loop."""
        order = np.argsort(labels, kind="stable")  # rows are ascending: members stay in row order
        sorted_labels = labels[order]
        bounds = np.flatnonzero(np.diff(sorted_labels)) + 1
        starts = np.concatenate([[0], bounds]).astype(np.int64)
        stops = np.concatenate([bounds, [len(sorted_labels)]]).astype(np.int64)
        big = stops - starts > 1
        start_of = np.full(n_rows, -1, dtype=np.int64)
        positions = ranges(starts[big], stops[big])
        start_of[rows[order[positions]]] = np.repeat(starts[big], (stops - starts)[big])
        stop_at = np.zeros(len(sorted_labels) + 1, dtype=np.int64)
        stop_at[starts[big]] = stops[big]
        return start_of.tolist(), stop_at.tolist(), rows[order].tolist()

    @property
    def bands(self) -> int:
        return len(self._bands)

    def key_group(self, row: int) -> int:
        """An id of the row's key group (-1 when no other row has its key)."""
        return self._key[0][row]

    def band_groups(self, row: int) -> list[int]:
        """Per band, an id of the row's band group (-1 when it shares that band with no other row)."""
        return [band[0][row] for band in self._bands]

    def same_key(self, row: int) -> list[int]:
        return self._members(self._key, row)

    def same_band(self, row: int) -> list[int]:
        found: list[int] = []
        for band in self._bands:
            found.extend(self._members(band, row))
        return found

    @staticmethod
    def _members(grouping: tuple[list[int], list[int], list[int]], row: int) -> list[int]:
        start_of, stop_at, members = grouping
        start = start_of[row]
        return members[start : stop_at[start]] if start >= 0 else []
