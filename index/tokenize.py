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

# Han characters: the basic block, extension A, the compatibility ideographs and the supplementary planes'
# extensions B-H. Folding makes rare traditional characters supplementary ones (錤 -> 𫓹, 嗰 -> 𠮶): a narrower
# class silently dropped them from names and words.
HAN_CHARS = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN = HAN_CHARS
_TOKEN_RE = re.compile(
    rf"(?P<han>[{_HAN}]+)"
    r"|(?P<latin>\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|[a-z0-9]+(?:[-.'’_][a-z0-9]+)*%?)"
)
_NUMBER_RE = re.compile(r"^\d+(?:\.\d+)?%?$")
_MEASURE_RE = re.compile(r"^(\d+(?:\.\d+)?)([a-z]+)$")
# Abbreviated units written against their number, and the word a text spells out ("16in" / "16-inch").
_UNIT_ABBREVIATIONS = {
    "in": "inch", "inch": "inch", "ft": "foot", "mi": "mile", "km": "kilometer", "cm": "centimeter",
    "mm": "millimeter", "nm": "nanometer", "kg": "kilogram", "lb": "pound", "lbs": "pound", "hr": "hour",
    "hrs": "hour", "mins": "minute", "yr": "year", "yrs": "year", "yo": "year",
}  # fmt: skip
_UNIT_RE = re.compile(r" ?(万亿|千亿|百亿|亿|千万|百万|万)")
_PART_SPLIT_RE = re.compile(r"[-_'’]|(?<=[a-z])\.|\.(?=[a-z])")


@dataclass(frozen=True, slots=True)
class TermSpan:
    """A term and the span of original text it came from (end exclusive). `gram` marks a character n-gram
    of a run of one-character words (see `_unknown_run_grams`): a term for scoring, not a word."""

    term: str
    start: int
    end: int
    gram: bool = False


def _load_words(name: str) -> frozenset[str]:
    text = resources.files("index.data").joinpath(name).read_text(encoding="utf-8")
    return frozenset(fold(line.strip()) for line in text.splitlines() if line.strip() and not line.startswith("#"))


# Bigrams of such runs are mostly pairs of common characters (成条, 东说): with them DRCD dev hit@1 was 0.921,
# without 0.922. Names are mostly three characters; CC-CEDICT's two-character words are linked anyway.
_MIN_GRAM = 3
_MAX_GRAM = 4
_ZH_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_BIG = {"万": 10_000, "亿": 100_000_000}
_ZH_NUMERAL_RE = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+成?")
_EN_NUMBERS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
}  # fmt: skip


def zh_numeral(word: str) -> list[str]:
    """The digit terms a Chinese numeral word stands for, as the tokeniser writes digits: 二十 -> 20,
    三千五百 -> 3500, 两万 -> 20000 and 2万, 两成 (two tenths) -> 20% and 20. Nothing for other words or values
    under ten (一, 三 are everywhere)."""
    if not _ZH_NUMERAL_RE.fullmatch(word):
        return []
    tenths = word.endswith("成")
    digits = word[:-1] if tenths else word
    if not digits:
        return []
    total = section = number = 0
    for char in digits:
        if char in _ZH_DIGITS:
            number = _ZH_DIGITS[char]
        elif char in _ZH_UNITS:
            section += (number or 1) * _ZH_UNITS[char]
            number = 0
        else:
            section += number
            if section == 0:
                return []
            total += section * _ZH_BIG[char]
            section = number = 0
    value = total + section + number
    if tenths:
        return [f"{value * 10}%", str(value * 10)] if 0 < value < 10 else []
    if value < 10:
        return []
    terms = [str(value)]
    for big_char, big in (("亿", _ZH_BIG["亿"]), ("万", _ZH_BIG["万"])):
        if digits.endswith(big_char) and value % big == 0:
            terms.append(f"{value // big}{big_char}")
            break
    return terms


def _unknown_run_grams(run: str, singles: list[int], stop: frozenset[str]) -> Iterable[tuple[int, int]]:
    """Character n-grams (3 or 4 characters) of the runs of one-character words in a segmented Han run.

    jieba cuts what its dictionary lacks, above all names (郭明錤, 莫乃光, 蓬佩奥, 史东), into single characters,
    so a name was only a bag of common characters. The n-grams of such runs make the name a term again,
    whatever the text around it (a question's run 郭明錤话 and a passage's run 郭明錤预计 share 郭明錤). An
    n-gram may hold a stopword character inside (黄之锋) but not at either end (之锋, 的郭)."""
    if len(singles) < 2:
        return
    singles = sorted(set(singles))
    run_start = 0
    for i in range(1, len(singles) + 1):
        if i < len(singles) and singles[i] == singles[i - 1] + 1:
            continue
        first, last = singles[run_start], singles[i - 1] + 1
        run_start = i
        for g_start in range(first, last - 1):
            if run[g_start] in stop:
                continue
            for g_end in range(g_start + _MIN_GRAM, min(last, g_start + _MAX_GRAM) + 1):
                if run[g_end - 1] not in stop:
                    yield g_start, g_end


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
        self.stopwords = (
            _load_words("stopwords_zh.txt") | _load_words("stopwords_yue.txt") | _load_words("stopwords_en.txt")
        )
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
        def span(term: str, start: int, end: int, gram: bool = False) -> TermSpan:
            if offsets is None:
                return TermSpan(term, start, end, gram)
            return TermSpan(term, offsets[start], offsets[end - 1] + 1, gram)

        stop = self.stopwords
        for match in _TOKEN_RE.finditer(folded):
            start = match.start()
            if match.lastgroup == "han":
                run = match.group()
                if self.mode == "search":
                    pieces = self._jieba.tokenize(run, mode="search", HMM=False)
                else:
                    pieces = self._jieba.tokenize(run, HMM=False)
                singles: list[int] = []
                for word, w_start, w_end in pieces:
                    numbers = zh_numeral(word)
                    for number in numbers:  # 二十 is the term 20: digits and numerals meet
                        yield span(number, start + w_start, start + w_end)
                    if word not in stop and not numbers:
                        yield span(word, start + w_start, start + w_end)
                    if w_end - w_start == 1:
                        singles.append(w_start)
                for g_start, g_end in _unknown_run_grams(run, singles, stop):
                    yield span(run[g_start:g_end], start + g_start, start + g_end, gram=True)
                continue
            token = match.group()
            end = match.end()
            if token.endswith(("'s", "’s")):
                token = token[:-2]
            if "," in token and token[0].isdigit():
                token = token.replace(",", "")
            measure = _MEASURE_RE.match(token)
            if measure and measure.group(2) in _UNIT_ABBREVIATIONS:  # 16in is 16-inch, 5g is not a measure
                unit = _UNIT_ABBREVIATIONS[measure.group(2)]
                yield span(measure.group(1), start, end)
                yield span(self.stem(unit), start, end)
                yield span(f"{measure.group(1)}-{unit}", start, end)
                continue
            if _NUMBER_RE.match(token):
                if token.endswith("%"):
                    yield span(token, start, end)
                    token = token[:-1]
                yield span(token, start, end)
                unit = _UNIT_RE.match(folded, end)
                if unit:
                    yield span(token + unit.group(1), start, unit.end())
                continue
            if token in _EN_NUMBERS:  # "twenty" is the term 20
                yield span(str(_EN_NUMBERS[token]), start, end)
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
