"""The build pipeline: from a corpus folder to a built index. `load_or_build` (what Engine.open runs) loads a
current index file or builds one: in this process, or for a large corpus in a separate process that may use a
helper process; `build` runs the stages (analysis, possibly from the token cache; duplicates; postings;
CC-CEDICT links) and `_build_here` saves the index file and the token cache."""

from __future__ import annotations

import bisect
import contextlib
import logging
import os
import re
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index import analysis
from index.aliases import AliasTable
from index.analysis import (
    TokenizerSpec,
    _analyse,
    _analyse_with,
    _Analysis,
    _init_worker,
    _worker_link_candidates,
)
from index.arrays import offsets, ranges
from index.bm25 import BM25Index, BM25Params
from index.buildlock import build_lock
from index.children import end_with_parent
from index.corpus import Document, DocumentInfo, corpus_fingerprint, load_catalog, load_document, printable_path
from index.crosslang import Lexicon, best_links, link_candidates, regional_variants
from index.duplicates import UNDECIDED, _collapse, _previous_decisions
from index.errors import CorpusError, IndexFileError
from index.formats import prune_cache
from index.glossary import Glossary
from index.indexfile import Checksums, _Built, _decode, _from_file, _info_fields, pack_links, read_index, save
from index.normalize import fold
from index.progress import Progress, terminal_progress
from index.ranking import BM25_PARAMS
from index.romanize import han_name_keys, latin_names
from index.sources import _catalog_key, _relative, _Sources, _tokenizer_spec, index_path, tokenizer_key
from index.tokencache import CacheKeys, TokenCache, token_cache_path
from index.tokenize import HAN_CHARS, Analyzer

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from index.passages import Passage

log = logging.getLogger(__name__)


def load_or_build(
    corpus_dir: Path,
    data_dir: Path | None,
    *,
    mode: str,
    rebuild: bool,
    workers: int | None,
    progress: Progress | None = None,
) -> tuple[Analyzer, Glossary, _Built, Path]:
    """Engine.open's work (its docstring says when an index is current, rebuilt or built elsewhere): the
    analyzer, the glossary, the built index and the resolved corpus folder. A build reports to `progress`
    (a build in a separate process reports on that process' stderr: a bar on a terminal, lines otherwise)."""
    started = time.perf_counter()
    # The stored index's checksums are computed in a thread while the corpus folder is checked (a large index's
    # ~0.5 s, in parallel); cancelled if the index is rebuilt instead.
    checksums = None
    if data_dir is not None and not rebuild:
        with contextlib.suppress(OSError):
            candidate = index_path(corpus_dir, data_dir)
            if candidate.is_file():
                checksums = Checksums(candidate)
    sources = _Sources.read(corpus_dir, data_dir, mode)
    built = None
    path = sources.index_file
    index_file = None
    built_elsewhere = False  # by a build process, which named the documents it skipped
    if path is not None and not rebuild:
        try:
            index_file = read_index(path, source_key=sources.source_key, checksums=checksums)
        except IndexFileError as exc:
            log.info("building index: %s", exc)
    if checksums is not None:
        checksums.cancel()  # done, or not needed: the index is rebuilt
    # One builder at a time per index file (index/buildlock.py): a process that waited for another's build looks
    # again, and loads what it built.
    building = index_file is None and path is not None and sources.spec.cache_dir is not None
    with build_lock(path) if building else contextlib.nullcontext(False) as waited:
        if waited and not rebuild:
            try:
                index_file = read_index(path, source_key=sources.source_key)
                log.info("index built by another process meanwhile")
            except IndexFileError:
                pass
        if index_file is None and sources.spec.cache_dir is not None and sources.size >= analysis.PARALLEL_MIN_CHARS:
            # multiprocessing is imported only by builds: loading a current index (a cold `footnote ask`) skips it
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            from concurrent.futures.process import BrokenProcessPool

            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                1, mp_context=context, initializer=end_with_parent, initargs=(os.getpid(),)
            ) as pool:
                future = pool.submit(
                    _build_index_file, str(sources.corpus_dir), str(data_dir), mode, rebuild, workers,
                    progress is not None,
                )  # fmt: skip
                analyzer = sources.spec.analyzer()  # meanwhile
                try:
                    stats = future.result()
                    index_file = read_index(path, source_key=sources.source_key)
                    built_elsewhere = True
                    log.info(_BUILT_MESSAGE + " in a separate process", *stats)
                except (BrokenProcessPool, OSError, IndexFileError) as exc:
                    log.warning("building in a separate process failed (%s); building here", exc)
        else:
            analyzer = sources.spec.analyzer()
        if index_file is not None:
            built = _from_file(index_file)
            log.info("index loaded from %s (%d passages)", path, len(built.passages))
            # Every load names them, not only a build (a build process named them itself).
            for skipped_path, why in [] if built_elsewhere else built.skipped:
                log.warning("skipping document %s: %s (unreadable when the index was built)", skipped_path, why)
        if built is None:
            built = _build_here(sources.untrusted(), analyzer, rebuild=rebuild, workers=workers, progress=progress)
    log.info(
        "corpus %s: %d documents, %d passages, version %s (%.2f s)",
        sources.corpus_dir,
        len(built.documents),
        len(built.passages),
        built.fingerprint,
        time.perf_counter() - started,
    )
    return analyzer, sources.glossary, built, sources.corpus_dir


# -- build -----------------------------------------------------------------------------------------------


def build(
    documents: Sequence[Document],
    analyzer: Analyzer,
    glossary: Glossary,
    fingerprint: str,
    params: BM25Params | None = None,
    *,
    tokenizer: TokenizerSpec | None = None,
    cache: TokenCache | None = None,
    workers: int | None = None,
    keep_analysis: Callable[[TokenCache], None] | None = None,
    passage_texts: bool = True,
    helper: ProcessPoolExecutor | None = None,
    progress: Progress | None = None,
) -> _Built:
    """Build the index of `documents`. Documents found in `cache` (same content) are not analysed again; the
    others are analysed here, or in `workers` processes (default: one per core) when they are many and
    `tokenizer` says how to make the same analyzer there; `progress` counts the documents analysed.

    The analysis of the corpus' documents (what a token cache keeps) is handed to `keep_analysis` as soon as
    it is complete, as a TokenCache without keys, and then released before the postings are built (at
    100k passages that keeps ~100 MB out of the build's peak). With `passage_texts=False` the passages carry
    no text (a build that is only saved: the index stores offsets). A `helper` process (initialised by
    `_init_worker`) tokenises a few new documents and computes the cross-language links alongside."""
    from concurrent.futures.process import BrokenProcessPool

    started = time.perf_counter()
    cached_rows = cache.rows_by_content() if cache is not None else {}
    fresh_docs = [doc for doc in documents if (doc.fingerprint, doc.body_start) not in cached_rows]
    fresh = _analyse_with(helper, fresh_docs) if helper is not None else None
    if fresh is None:
        fresh = _analyse(fresh_docs, analyzer, glossary, tokenizer, workers, progress)
    if progress is not None:
        progress.close()  # the tokenising stage ends here (its last line); duplicates and postings follow
    analysed = time.perf_counter()
    # The cache's documents, then the fresh ones (the cache's arrays are not copied when nothing is fresh).
    offset = cache.analysis.n_docs if cache is not None else 0
    combined = (
        fresh if cache is None else cache.analysis if not fresh_docs else _Analysis.concat([cache.analysis, fresh])
    )
    # Only `combined` holds the analysis from here (`fresh` held it, at 1M passages ~750 MB, until the index was
    # saved): it is released once the token cache has it.
    del fresh
    if cache is not None:
        cache.analysis = combined  # the cache's own arrays are released once merged
    _release_free_memory()  # what tokenising left behind (the workers' parts, merged)
    fresh_rows = {(doc.fingerprint, doc.body_start): offset + i for i, doc in enumerate(fresh_docs)}
    order = np.asarray(
        [cached_rows.get((doc.fingerprint, doc.body_start), fresh_rows.get((doc.fingerprint, doc.body_start), -1))
         for doc in documents],
        dtype=np.int64,
    )  # fmt: skip
    # The links depend only on the vocabulary: the helper computes them over every term analysed (a superset
    # of the index's) while this process collapses duplicates and builds postings; they are narrowed below.
    links_future = None
    if helper is not None:
        try:
            links_future = helper.submit(
                _worker_link_candidates,
                {t for t in combined.terms if _ZH_TERM.fullmatch(t)},
                {t for t in combined.terms if _EN_TERM.fullmatch(t)},
            )
        except (BrokenProcessPool, RuntimeError) as exc:
            log.warning("link helper unavailable (%s); computing links here", exc)
    rows = combined.rows_of(order)  # corpus order -> row of `combined`
    n_raw = len(rows)
    collapsing = time.perf_counter()
    previous = None
    if cache is not None and cache.decisions is not None and cache.ranks is not None:
        previous = _previous_decisions(order, rows, np.diff(combined.doc_ptr), cache.decisions, cache.ranks)
    passages, kept, decision = _collapse(
        documents, combined.take(order, bags=False), texts=passage_texts, previous=previous
    )
    del previous
    _release_free_memory()
    collapsed = time.perf_counter()
    kept_rows = rows[kept]
    bag_ptr = offsets([combined.bag_ptr[kept_rows + 1] - combined.bag_ptr[kept_rows]])
    bag_terms, bag_counts = _gather_bags(combined, kept_rows, bag_ptr)
    # The vocabulary in sorted order: the index is the same whichever documents came from the cache.
    used = np.zeros(len(combined.terms), dtype=bool)
    used[bag_terms] = True
    by_term = sorted(np.flatnonzero(used).tolist(), key=combined.terms.__getitem__)
    numbering = np.zeros(len(combined.terms), dtype=np.int32)
    numbering[by_term] = np.arange(len(by_term), dtype=np.int32)
    vocab = [combined.terms[i] for i in by_term]
    for low in range(0, len(bag_terms), _RENUMBER_BLOCK):
        # In place a block at a time: np.take(..., out=bag_terms) buffers a whole copy of its output (at 1M
        # passages, ~1.2 GB at the build's peak).
        block = bag_terms[low : low + _RENUMBER_BLOCK]
        block[:] = numbering[block]
    del used, numbering, by_term
    # What the token cache keeps: the analysis of the documents still in the corpus, their duplicate decisions
    # and places in the corpus order.
    present = np.unique(order)
    cache_row = np.full(len(combined.key_len), -1, dtype=np.int64)
    cache_row[combined.rows_of(present)] = np.arange(int(np.diff(combined.doc_ptr)[present].sum()))
    decisions = np.full(int(cache_row.max()) + 1 if len(cache_row) else 0, UNDECIDED, dtype=np.int64)
    decisions[cache_row[rows]] = np.where(decision >= 0, cache_row[rows[np.maximum(decision, 0)]], decision)
    rank_of = np.full(combined.n_docs, -1, dtype=np.int64)
    rank_of[order] = np.arange(len(order))
    ranks = rank_of[present]
    del rows, decision, cache_row, rank_of
    if len(present) != combined.n_docs:
        combined = combined.take(present)
    cache_docs = {int(row): doc for doc, row in zip(documents, order.tolist(), strict=True)}
    cache_documents = [
        {"info": _info_fields(cache_docs[int(row)].info), "body_start": cache_docs[int(row)].body_start}
        for row in present.tolist()
    ]
    del cache_docs
    if keep_analysis is not None:
        keep_analysis(TokenCache(CacheKeys("", "", ""), cache_documents, combined, decisions, ranks))
    if cache is not None:
        cache.analysis = _Analysis.empty()
    del combined, cache_documents, decisions, ranks
    bm25 = BM25Index.from_bags(vocab, bag_ptr, bag_terms, bag_counts, params or BM25_PARAMS)
    del bag_terms, bag_counts
    indexed = time.perf_counter()
    zh_vocab = {t for t in vocab if _ZH_TERM.fullmatch(t)}
    en_vocab = {t for t in vocab if _EN_TERM.fullmatch(t)}
    candidates = None
    if links_future is not None:
        try:
            candidates = links_future.result()
        except (BrokenProcessPool, OSError) as exc:
            log.warning("link helper failed (%s); computing links here", exc)
    if candidates is None:
        cache_dir = Path(tokenizer.cache_dir) if tokenizer is not None and tokenizer.cache_dir else None
        candidates = link_candidates(zh_vocab, en_vocab, analyzer.stem, analyzer.stopwords, cache_dir)
    links = best_links(candidates[0], candidates[1], zh_vocab=zh_vocab, en_vocab=en_vocab)
    en_to_zh, zh_to_en = (pack_links(side) for side in links)
    names = name_tables(zh_vocab, documents, candidates[2], analyzer, bm25.df)
    names["regional"] = regional_variants(zh_vocab)
    names["paired"] = paired_forms(documents, analyzer, bm25.vocab, bm25.df, candidates[2].ordinary)
    stats = (
        len(passages),
        n_raw,
        len(vocab),
        time.perf_counter() - started,
        len(fresh_docs),
        len(documents),
        analysed - started,
        collapsing - analysed,
        collapsed - collapsing,
        indexed - collapsed,
        time.perf_counter() - indexed,
    )
    log.info(_BUILT_MESSAGE, *stats)
    return _Built(
        [doc.info for doc in documents],
        passages,
        bm25,
        en_to_zh,
        zh_to_en,
        fingerprint,
        stats=stats,
        names=names,
    )


_RENUMBER_BLOCK = 1 << 22  # bag entries renumbered together
_GATHER_ROWS = 1 << 16  # passages whose bags are gathered together (bounds the index arrays' size)


def _gather_bags(combined: _Analysis, kept_rows: np.ndarray, bag_ptr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bags of rows `kept_rows` of `combined`, one after the other (bag_ptr: their offsets). Gathered a block
    of rows at a time: the positions of all the kept bags' entries at once (and their temporaries) took
    ~8 bytes per posting on top of the bags, hundreds of MB at 1M passages, at the build's peak."""
    bag_terms = np.empty(int(bag_ptr[-1]), dtype=combined.bag_terms.dtype)
    bag_counts = np.empty(int(bag_ptr[-1]), dtype=combined.bag_counts.dtype)
    for low in range(0, len(kept_rows), _GATHER_ROWS):
        block = kept_rows[low : low + _GATHER_ROWS]
        selected = ranges(combined.bag_ptr[block], combined.bag_ptr[block + 1])
        out = slice(int(bag_ptr[low]), int(bag_ptr[low + len(block)]))
        bag_terms[out] = combined.bag_terms[selected]
        bag_counts[out] = combined.bag_counts[selected]
    return bag_terms, bag_counts


def _release_free_memory() -> None:
    """Hand memory freed by a stage (the duplicate pass' many small Python objects, the tokenising workers'
    merged parts) back to the system before the next, so the two do not add up in the build's peak. glibc
    only; elsewhere a no-op."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


_BUILT_MESSAGE = (
    "built index: %d passages (%d before duplicates collapsed), %d terms in %.2f s (%d of %d documents analysed "
    "in %.2f s, assembled %.2f s, duplicates %.2f s, postings %.2f s, links %.2f s)"
)
_ZH_TERM = re.compile(f"[{HAN_CHARS}]{{2,}}")


def name_tables(
    zh_vocab: Collection[str],
    documents: Sequence[Document],
    lexicon: Lexicon,
    analyzer: Analyzer,
    df: Callable[[str], int],
) -> dict[str, dict[str, str]]:
    """The romanised-name tables of index.romanize, packed for the index file: "han" (romanised key -> Han
    terms), "latin" (syllable key -> Latin terms), "chars" (syllable -> characters read so) and "initials"
    (shorthand -> the words of the capitalised name it abbreviates)."""
    han = han_name_keys(zh_vocab, lexicon.surnames, lexicon.zh_words, _ZH_TERM, analyzer.rarity, df)
    latin = latin_names((doc.text for doc in documents), lexicon.en_words, analyzer.stem)
    return {
        "han": {key: " ".join(terms) for key, terms in han.items()},
        "latin": {key: " ".join(terms) for key, terms in latin.names.items()},
        "chars": latin.chars,
        "initials": {key: " ".join(terms) for key, terms in latin.initials.items()},
    }


_EN_TERM = re.compile(r"[a-z]{2,}")
_HAN_FORM = re.compile(f"[{HAN_CHARS}]")


def paired_forms(
    documents: Sequence[Document],
    analyzer: Analyzer,
    vocab: Sequence[str],
    df: Callable[[str], int],
    ordinary: Collection[str],
) -> dict[str, str]:
    """The names and terms the corpus pairs itself (index.aliases: 史東（Steve Stone）, 「火眼」（FireEye）,
    Northwind Data Services（簡稱NDS）) for /ask: each folded form -> the index terms of the other
    forms of its group, so that a question naming one form reaches passages that write another. A Han form
    jieba does not keep as one term (史東說 is one unknown-word term) reaches the index terms that start with
    it (at most one character longer). The surname of a paired Latin person name (the last word of "Steve
    Stone", "H I Sutton") is a form too, when it is no ordinary English word."""
    table = AliasTable.build(doc.text for doc in documents)
    paired: dict[str, str] = {}
    for group in table.groups():
        terms = {form: _form_terms(form, analyzer, vocab, df, ordinary) for form in group}
        han = [form for form in group if _HAN_FORM.search(form)]
        extra: dict[str, str] = {}
        if han:
            for form in group:
                words = form.split()
                if len(words) > 1 and not _HAN_FORM.search(form) and words[-1][:1].isupper():
                    surname = words[-1].lower()
                    if len(surname) > 2 and surname.isalpha() and surname not in ordinary:
                        extra[surname] = form
        for form in (*group, *extra):
            own = terms.get(form, ())
            source = extra.get(form)
            others = [f for f in group if f not in (form, source)]
            if source is not None:  # a surname reaches the other script only
                others = [f for f in others if _HAN_FORM.search(f)]
            targets = [t for f in others for t in terms[f] if t not in own]
            key = fold(form).strip()
            if targets and key:
                merged = dict.fromkeys([*paired.get(key, "").split(), *targets])
                paired[key] = " ".join(merged)
    return paired


def _form_terms(
    form: str, analyzer: Analyzer, vocab: Sequence[str], df: Callable[[str], int], ordinary: Collection[str]
) -> list[str]:
    """The index terms that write a form. A Latin form: its words the corpus has, less single letters and
    (in a name of several words) ordinary English words (Steve Stone -> steve). A Han form: the term it is, or
    the vocabulary's terms that start with it and are at most one character longer (史東說 is one unknown-word
    term), or else its term rarest in the language (雲盾, cut into 云 盾 -> 盾; 槍手法魯克 -> 法鲁克)."""
    spans = [span for span in analyzer.spans(form) if not span.gram and df(span.term)]
    folded = fold(form).strip()
    if not _HAN_FORM.search(folded):
        words = [span for span in spans if len(span.term) > 1]
        plain = [span for span in words if form[span.start : span.end].lower() not in ordinary]
        return list(dict.fromkeys(span.term for span in (plain if len(words) > 1 and plain else words)))
    if df(folded):
        return [folded]
    at = bisect.bisect_left(vocab, folded)
    longer = []
    while at < len(vocab) and vocab[at].startswith(folded):
        if len(vocab[at]) <= len(folded) + 1:
            longer.append(vocab[at])
        at += 1
    if longer or not spans:
        return longer
    return [max(spans, key=lambda span: (analyzer.rarity(span.term), len(span.term), -df(span.term))).term]


def _build_here(
    sources: _Sources,
    analyzer: Analyzer,
    *,
    rebuild: bool,
    workers: int | None,
    passage_texts: bool = True,
    helper: ProcessPoolExecutor | None = None,
    progress: Progress | None = None,
) -> _Built:
    """Build the index in this process (from the token cache unless `rebuild`) and save it when there is a
    data folder."""
    path = sources.index_file
    keys = CacheKeys(tokenizer_key(sources.extra), _catalog_key(sources.corpus_dir), str(sources.corpus_dir))
    cache = TokenCache.load(token_cache_path(path), keys) if path is not None and not rebuild else None
    skipped: list[tuple[str, str]] = []
    documents = _load_documents(
        sources.corpus_dir,
        sources.files,
        sources.contents,
        sources.blobs,
        cache,
        progress,
        sources.extracted_dir,
        skipped=skipped,
    )
    if sources.extracted_dir is not None:
        prune_cache(sources.extracted_dir, {doc.fingerprint for doc in documents})
    fingerprint = corpus_fingerprint(documents, sources.extra)

    def keep_analysis(kept: TokenCache) -> None:
        assert path is not None
        try:
            replace(kept, keys=keys, analysis=kept.analysis.compact()).save(token_cache_path(path))
        except OSError as exc:
            log.warning("could not save the token cache beside %s (%s)", path, exc)

    built = build(
        documents,
        analyzer,
        sources.glossary,
        fingerprint,
        tokenizer=sources.spec,
        cache=cache,
        workers=workers,
        keep_analysis=keep_analysis if path is not None else None,
        passage_texts=passage_texts,
        helper=helper,
        progress=progress,
    )
    built.skipped = skipped
    if progress is not None:
        progress.close()
    if path is not None:
        try:
            texts: Mapping[str, str] = {doc.doc_id: doc.text for doc in documents}
            if len(texts) == len(documents) and _in_document_order(built.passages, texts):
                texts = _TextsInOrder([(doc.doc_id, doc.text) for doc in documents])
                del documents[:]  # the texts are now held only by `texts`, which drops each once it is done with
            _release_free_memory()
            save(path, built, sources.spec.mode, source_key=sources.source_key, texts=texts,
                 file_stats=sources.file_stats)  # fmt: skip
        except OSError as exc:
            log.warning("could not save the index to %s (%s); using it from memory", path, exc)
    return built


def _in_document_order(passages: Sequence[Passage], texts: Mapping[str, str]) -> bool:
    """Whether the passages come document by document, in the order of `texts` (the build makes them so)."""
    number = {doc_id: i for i, doc_id in enumerate(texts)}
    previous = 0
    for passage in passages:
        current = number.get(passage.doc_id, -1)
        if current < previous:
            return False
        previous = current
    return True


class _TextsInOrder(Mapping[str, str]):
    """Documents' texts by doc_id, for `save` to cut the passages' texts from, when it asks for them document
    by document in this order (`_in_document_order`): each text is dropped once a later one is asked for, so
    the documents' texts and the index's text block being made of them (at 1M passages, ~600 MB each, at the
    build's peak) are not all held at once. A text asked for again after it was dropped is a KeyError."""

    _TRIM_CHARS = 1 << 25  # the memory of the texts dropped is handed back to the system every ~32M characters

    def __init__(self, texts: list[tuple[str, str]]) -> None:
        self._texts = texts
        self._at = 0
        self._dropped = 0

    def __getitem__(self, doc_id: str) -> str:
        texts = self._texts
        while self._at < len(texts) and texts[self._at][0] != doc_id:
            self._dropped += len(texts[self._at][1])
            texts[self._at] = (texts[self._at][0], "")  # passed: not asked for again
            self._at += 1
        if self._dropped >= self._TRIM_CHARS:
            # Freed texts stay in the heap (and in the process' RSS) until handed back; the text block grows
            # elsewhere (one large allocation), so it would not reuse them.
            self._dropped = 0
            _release_free_memory()
        if self._at == len(texts):
            raise KeyError(doc_id)
        return texts[self._at][1]

    def __iter__(self) -> Iterator[str]:
        return (doc_id for doc_id, _ in self._texts)

    def __len__(self) -> int:
        return len(self._texts)


def _build_index_file(
    corpus_dir: str, data_dir: str, mode: str, rebuild: bool, workers: int | None, show_progress: bool = False
) -> tuple:
    """In a separate process: build and save the index of a corpus folder; the figures of its log line. With
    `show_progress`, the build's progress goes to this process' stderr (the caller's terminal or log).

    With two cores, one helper process starts at once: while this one reads the corpus (and the token cache),
    the helper loads the segmenter; it then tokenises the few new documents of a rebuild from the cache, and in
    every build computes the CC-CEDICT link candidates while this one finds duplicates and builds the postings
    (at 100k passages, seconds of a build that would otherwise run one after the other on one core)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    logging.getLogger("jieba").setLevel(logging.WARNING)
    folder, data = Path(corpus_dir).resolve(), Path(data_dir)
    helper = None
    if (workers if workers is not None else os.cpu_count() or 1) >= 2:
        spec = _tokenizer_spec(folder, data, mode)
        helper = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
                                     initargs=(spec, os.getpid()))  # fmt: skip
        helper.submit(int)  # start it now
    try:
        sources = _Sources.read(folder, data, mode, trust_stats=False)
        # jieba is loaded only if some documents are tokenised here rather than in worker processes.
        built = _build_here(
            sources,
            sources.spec.analyzer(eager=False),
            rebuild=rebuild,
            workers=workers,
            passage_texts=False,
            helper=helper,
            progress=terminal_progress() if show_progress else None,
        )
    finally:
        if helper is not None:
            helper.shutdown(cancel_futures=True)
    return built.stats


def _load_documents(
    corpus_dir: Path,
    files: Sequence[Path],
    contents: dict[Path, str],
    blobs: dict[str, bytes],
    cache: TokenCache | None,
    progress: Progress | None = None,
    extracted_dir: Path | None = None,
    *,
    skipped: list[tuple[str, str]] | None = None,
) -> list[Document]:
    """The corpus' documents, as `load_corpus` reads them, but reusing the catalog fields of unchanged documents
    from the token cache (inferring titles, dates and languages reads every character of every document).
    `progress` counts the documents read; the text extracted from PDF, HTML, .docx and EPUB files is kept in
    `extracted_dir` (the data folder's), so that a rebuild does not extract an unchanged document again. Documents that
    cannot be read are named in a warning and appended, with why, to `skipped` (the index keeps the list, so
    that every later load names them again)."""
    catalog = load_catalog(corpus_dir)
    known: dict[str, tuple[DocumentInfo, int]] = {}
    if (
        cache is not None
        and cache.keys.catalog == _catalog_key(corpus_dir)
        and cache.keys.corpus_dir == str(corpus_dir)
    ):
        known = cache.infos()
    documents: list[Document] = []
    if progress is not None:
        progress.stage("read", total=len(files), unit="documents")
    for path in files:
        if progress is not None:
            progress.advance()
        relative = _relative(corpus_dir, str(path))
        doc_id = relative.rsplit(".", 1)[0]
        reuse = known.get(doc_id)
        if reuse is not None and reuse[0].path == str(path) and contents[path][:16] == reuse[0].fingerprint:
            try:
                text = _decode(blobs, str(path), extracted_dir)
                documents.append(Document(reuse[0], text, reuse[1], reuse[0].fingerprint))
                continue
            except IndexFileError:
                pass  # changed since it was hashed: read it as a new document
        entry = catalog.get(relative) or catalog.get(path.name) or {}
        try:
            documents.append(load_document(path, doc_id, entry, blobs.pop(str(path), None), extracted_dir))
        except (CorpusError, OSError) as exc:
            log.warning("skipping document %s: %s", path, exc)
            if skipped is not None:
                skipped.append((printable_path(path), str(exc)))
    if not documents:
        raise CorpusError(f"no readable documents in {corpus_dir}")
    return documents
