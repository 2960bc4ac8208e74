"""Tokenisation for matching: jieba for Han script, a small regex for Latin words and numbers.

Pipeline, applied identically to passages and questions: fold (NFKC, traditional -> simplified, lower case),
split into Han runs and Latin/number runs, segment Han runs with jieba (dictionary mode, no HMM, so the same
string always segments the same way), stem English words (Snowball), drop stopwords. Numbers stay searchable:
``38%`` gives ``38%`` and ``38``; ``1.4 万亿`` also gives the compound ``1.4万亿``; ``GPT-5.2-Codex`` gives its
parts and its prefixes (``gpt``, ``5.2``, ``codex``, ``gpt-5.2``, ``gpt-5.2-codex``).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jieba
import Stemmer

from index.corpus import read_data_file
from index.normalize import fold, fold_with_offsets

log = logging.getLogger(__name__)

MODES = ("search", "precise")

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(
    rf"(?P<han>[{_HAN}]+)"
    r"|(?P<latin>\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|[a-z0-9]+(?:[-.'’_][a-z0-9]+)*%?)"
)
_NUMBER_RE = re.compile(r"^\d+(?:\.\d+)?%?$")
_UNIT_RE = re.compile(r" ?(万亿|千亿|百亿|亿|千万|百万|万)")
_PART_SPLIT_RE = re.compile(r"[-_'’]|(?<=[a-z])\.|\.(?=[a-z])")


@dataclass(frozen=True, slots=True)
class TermSpan:
    """A term and the span of original text it came from (end exclusive)."""

    term: str
    start: int
    end: int


def _load_words(name: str) -> frozenset[str]:
    text = resources.files("index.data").joinpath(name).read_text(encoding="utf-8")
    return frozenset(fold(line.strip()) for line in text.splitlines() if line.strip() and not line.startswith("#"))


class Analyzer:
    """Turns text into index terms. One instance per process; thread-safe for reading after construction.

    `userdicts` are jieba user dictionaries (``word freq tag`` per line). `cache_dir` is where jieba keeps its
    prefix-dictionary cache (a writable data folder); `mode` is ``search`` (jieba's search mode: long words
    also yield their dictionary sub-words) or ``precise``.
    """

    def __init__(
        self,
        *,
        userdicts: Sequence[Path] = (),
        mode: str = "search",
        cache_dir: Path | None = None,
        dictionary: Path | None = None,
        eager: bool = True,
    ) -> None:
        """With `eager=False`, jieba's dictionary (0.7 s, ~100 MB) is loaded on the first tokenisation rather
        than now: a process that only needs `stem` and `stopwords` (an index build whose tokenising runs in
        worker processes) never loads it."""
        if mode not in MODES:
            raise ValueError(f"tokeniser mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        self._tokenizer = jieba.Tokenizer(str(dictionary)) if dictionary else jieba.Tokenizer()
        if cache_dir is not None:
            self._tokenizer.tmp_dir = str(cache_dir)
        self._userdicts = list(userdicts)
        self._pending_words: list[tuple[list[str], int]] = []
        self._ready = False
        self._init_lock = threading.Lock()
        if eager:
            self.initialize()
        self.stopwords = _load_words("stopwords_zh.txt") | _load_words("stopwords_en.txt")
        self._stemmer_local = threading.local()
        self._stems: dict[str, str] = {}

    def initialize(self) -> None:
        """Load jieba's dictionary, the user dictionaries and the words added so far (once; thread-safe)."""
        if self._ready:
            return
        with self._init_lock:
            if self._ready:
                return
            self._tokenizer.initialize()
            for path in self._userdicts:
                self._load_userdict(path)
            for words, freq in self._pending_words:
                self._add_words(words, freq)
            self._pending_words.clear()
            self._ready = True

    @property
    def _jieba(self) -> jieba.Tokenizer:
        if not self._ready:
            self.initialize()
        return self._tokenizer

    def _load_userdict(self, path: Path) -> None:
        data = read_data_file(path)
        try:
            text = data.decode("utf-8") if data is not None else ""
        except UnicodeDecodeError as exc:
            log.warning("%s is not UTF-8 (%s); user dictionary ignored", path, exc)
            text = ""
        for line_no, raw in enumerate(text.splitlines(), 1):
            parts = raw.strip().split()
            if not parts or parts[0].startswith("#"):
                continue
            try:
                freq = int(parts[1]) if len(parts) > 1 else None
            except ValueError:
                log.warning("%s:%d: frequency %r is not a number; line ignored", path, line_no, parts[1])
                continue
            # Dictionary words are folded like the text they will meet (traditional -> simplified, lower case).
            self._tokenizer.add_word(fold(parts[0]), freq, parts[2] if len(parts) > 2 else None)

    def add_words(self, words: Iterable[str], freq: int = 2000) -> None:
        """Teach jieba extra words (glossary aliases) so they are not split.

        Only words of three or more Han characters that jieba does not know yet: a known word keeps the
        frequency its dictionary or the corpus' user dictionary gave it, and a two-character name (何简) added
        at a high frequency would break ordinary phrases around it (如何简单). The glossary still finds those
        names in the text by itself.
        """
        words = list(words)
        with self._init_lock:
            if not self._ready:
                self._pending_words.append((words, freq))
                return
        self._add_words(words, freq)

    def _add_words(self, words: Iterable[str], freq: int) -> None:
        for word in words:
            folded = fold(word)
            if re.fullmatch(f"[{_HAN}]{{3,}}", folded) and not self._tokenizer.FREQ.get(folded):
                self._tokenizer.add_word(folded, freq)

    def stem(self, word: str) -> str:
        """English Snowball (Porter2) stem of an alphabetic word longer than two letters; others unchanged."""
        stem = self._stems.get(word)
        if stem is None:
            if word.isalpha() and word.isascii() and len(word) > 2:
                stemmer = getattr(self._stemmer_local, "stemmer", None)
                if stemmer is None:  # PyStemmer objects are not thread-safe: one per thread
                    stemmer = self._stemmer_local.stemmer = Stemmer.Stemmer("english")
                stem = stemmer.stemWord(word)
            else:
                stem = word
            if len(self._stems) < 200_000:
                self._stems[word] = stem
        return stem

    def rarity(self, word: str) -> float:
        """How rare a (folded) Chinese word is in general use, 0 (very common) .. 1 (unknown to jieba's
        dictionary), from jieba's word frequencies: log(total / freq) mapped from [8, 14] onto [0, 1]."""
        freq = self._jieba.FREQ.get(word) or 0
        if freq <= 0:
            return 1.0
        information = math.log(self._jieba.total / freq)
        return min(1.0, max(0.0, (information - 8.0) / 6.0))

    # -- terms ---------------------------------------------------------------------------------------------

    def terms(self, text: str) -> list[str]:
        """Index terms of `text`, in order (duplicates kept: they are term frequencies)."""
        return [span.term for span in self._spans(fold(text), None)]

    def spans(self, text: str) -> list[TermSpan]:
        """Index terms of `text` with the original character span of each."""
        folded, offsets = fold_with_offsets(text)
        return list(self._spans(folded, offsets))

    def is_stopword(self, term: str) -> bool:
        return term in self.stopwords

    def _spans(self, folded: str, offsets: list[int] | None) -> Iterable[TermSpan]:
        def span(term: str, start: int, end: int) -> TermSpan:
            if offsets is None:
                return TermSpan(term, start, end)
            return TermSpan(term, offsets[start], offsets[end - 1] + 1)

        stop = self.stopwords
        for match in _TOKEN_RE.finditer(folded):
            start = match.start()
            if match.lastgroup == "han":
                run = match.group()
                if self.mode == "search":
                    pieces = self._jieba.tokenize(run, mode="search", HMM=False)
                else:
                    pieces = self._jieba.tokenize(run, HMM=False)
                for word, w_start, w_end in pieces:
                    if word not in stop:
                        yield span(word, start + w_start, start + w_end)
                continue
            token = match.group()
            end = match.end()
            if token.endswith(("'s", "’s")):
                token = token[:-2]
            if "," in token and token[0].isdigit():
                token = token.replace(",", "")
            if _NUMBER_RE.match(token):
                if token.endswith("%"):
                    yield span(token, start, end)
                    token = token[:-1]
                yield span(token, start, end)
                unit = _UNIT_RE.match(folded, end)
                if unit:
                    yield span(token + unit.group(1), start, unit.end())
                continue
            parts = [p for p in _PART_SPLIT_RE.split(token) if p]
            if len(parts) == 1:
                if parts[0] not in stop:
                    yield span(self.stem(parts[0]), start, end)
                continue
            position = start
            for part in parts:
                part_start = folded.index(part, position)
                position = part_start + len(part)
                if part not in stop:
                    yield span(self.stem(part), part_start, position)
            if any(c.isdigit() for c in token):
                # Model names: every prefix compound (gpt-5.2, gpt-5.2-codex) is a term of its own.
                for cut in range(2, len(parts) + 1):
                    prefix_end = start
                    for part in parts[:cut]:
                        prefix_end = folded.index(part, prefix_end) + len(part)
                    yield span(folded[start:prefix_end], start, prefix_end)
