"""Tokenisation for matching: jieba's segmentation for Han script, a small regex for Latin words and numbers.

Pipeline, applied identically to passages and questions: fold (NFKC, traditional -> simplified, lower case),
split into Han runs and Latin/number runs, segment Han runs with jieba's dictionary and algorithm (dictionary
mode, no HMM, so the same string always segments the same way), stem English words (Snowball), drop stopwords.
Numbers stay searchable: ``38%`` gives ``38%`` and ``38``; ``1.4 万亿`` also gives the compound ``1.4万亿``;
``GPT-5.2-Codex`` gives its parts and its prefixes (``gpt``, ``5.2``, ``codex``, ``gpt-5.2``, ``gpt-5.2-codex``).

Segmenters. ``rjieba`` (the default) is jieba-rs, the Rust port of jieba with jieba's dictionary and algorithm:
its segmentation equals jieba's on every Han run of the seeds, CMRC 2018, DRCD and SQuAD (docs/benchmarks.md,
`footnote bench --tokenizers`), it tokenises about five times faster, and its dictionary loads in a tenth of
jieba's time (no 30 MB cache file to unmarshal). ``jieba`` (the reference) and ``jieba-fast`` can be chosen for
comparison. Word frequencies (`Analyzer.rarity`) come from jieba's own dictionary file, read only when asked.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import math
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.machinery import ExtensionFileLoader
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import Stemmer

from index.corpus import read_data_file
from index.normalize import fold, fold_with_offsets

try:  # the per-term loops in C (index/_termbag.c, built at install); the Python below gives the same terms
    from index import _termbag
except ImportError:
    _termbag = None

log = logging.getLogger(__name__)

MODES = ("search", "precise")
SEGMENTERS = ("rjieba", "jieba", "jieba-fast")
DEFAULT_SEGMENTER = "rjieba"

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
_TERM_CACHE_SIZE = 500_000  # distinct words whose terms an Analyzer remembers
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


class Segmenter(Protocol):
    """Jieba's segmentation of a Han run, with words added at run time."""

    def tokenize(self, run: str, search: bool) -> Iterable[tuple[str, int, int]]:
        """(word, start, end) of each word of `run`; in search mode long words also yield their sub-words."""

    def add_word(self, word: str, freq: int | None, tag: str | None) -> None: ...

    def knows(self, word: str) -> bool:
        """Whether `word` is a word of the dictionary (or was added)."""


class _PythonJieba:
    """jieba (or jieba-fast, the same API) with its own dictionary cache in `cache_dir`."""

    def __init__(self, module_name: str, cache_dir: Path | None) -> None:
        module: Any = __import__(module_name)
        # jieba sets its logger to DEBUG with a handler of its own when imported; keep it to warnings.
        logging.getLogger(module_name).setLevel(logging.WARNING)
        module.setLogLevel(logging.WARNING)
        self.tokenizer = module.Tokenizer()
        if cache_dir is not None:
            self.tokenizer.tmp_dir = str(cache_dir)
        self.tokenizer.initialize()

    def tokenize(self, run: str, search: bool) -> Iterable[tuple[str, int, int]]:
        return self.tokenizer.tokenize(run, mode="search" if search else "default", HMM=False)

    def add_word(self, word: str, freq: int | None, tag: str | None) -> None:
        self.tokenizer.add_word(word, freq, tag)

    def knows(self, word: str) -> bool:
        return bool(self.tokenizer.FREQ.get(word))


def _rjieba_class() -> Any:
    """rjieba's Jieba class. The package's __init__ builds a module-level default instance (a second dictionary
    load, ~0.1 s, and global state Footnote never uses), so its extension module is loaded on its own."""
    spec = importlib.util.find_spec("rjieba")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("rjieba is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    for library in sorted(folder.glob("rjieba*.so")) + sorted(folder.glob("rjieba*.pyd")):
        loader = ExtensionFileLoader("rjieba.rjieba", str(library))
        extension = importlib.util.spec_from_file_location("rjieba.rjieba", library, loader=loader)
        if extension is not None:
            module = importlib.util.module_from_spec(extension)
            loader.exec_module(module)
            return module.Jieba
    from rjieba import Jieba  # an unusual layout: the package's own import

    return Jieba


def _jieba_dictionary_file() -> Path | None:
    """jieba's dict.txt (found without importing jieba, whose import costs 0.2 s)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "dict.txt"
    return path if path.exists() else None


class WordTable:
    """jieba's dictionary (its dict.txt: the words and frequencies rjieba has built in) as a sorted array of words
    and one of frequencies, saved as .npy files in the data folder and memory-mapped: it opens in a millisecond,
    where building rjieba's whole dictionary takes ~0.1 s and jieba's 0.7 s. It answers which substrings of a
    text are dictionary words (the lazy segmenter below) and how frequent a word is (`Analyzer.rarity`)."""

    MAX_CHARS = 16  # jieba's longest dictionary word

    def __init__(self, words: np.ndarray, freqs: np.ndarray) -> None:
        self.words = words
        self.freqs = freqs
        self.total = int(freqs.sum(dtype=np.int64))

    @classmethod
    def load(cls, cache_dir: Path | None) -> WordTable | None:
        """From the cache in `cache_dir` (made there the first time, ~0.5 s), else parsed in memory; None
        without jieba's dictionary file."""
        source = _jieba_dictionary_file()
        if source is None:
            return None
        key = f"{segmenter_version('jieba')}-{source.stat().st_size}"
        if cache_dir is not None:
            words_path = cache_dir / f"jieba-words-{key}.npy"
            freqs_path = cache_dir / f"jieba-freqs-{key}.npy"
            try:
                return cls(np.load(words_path, mmap_mode="r"), np.load(freqs_path, mmap_mode="r"))
            except (OSError, ValueError):
                pass
        pairs = [line.split(" ", 2)[:2] for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
        words = np.array([word for word, _ in pairs], dtype=f"<U{cls.MAX_CHARS}")
        order = np.argsort(words, kind="stable")
        table = cls(words[order], np.array([int(freq) for _, freq in pairs], dtype=np.uint32)[order])
        if cache_dir is not None:
            for path, array in ((words_path, table.words), (freqs_path, table.freqs)):
                try:
                    handle, temp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=cache_dir)
                    with os.fdopen(handle, "wb") as out:
                        np.save(out, array)
                    os.replace(temp, path)
                except OSError as exc:
                    log.info("could not cache jieba's dictionary in %s (%s)", cache_dir, exc)
        return table

    def frequencies(self, words: Sequence[str]) -> list[int]:
        """Each word's dictionary frequency, 0 for a word not in the dictionary."""
        if not words or not len(self.words):
            return [0] * len(words)
        keys = np.array([w if len(w) <= self.MAX_CHARS else "" for w in words], dtype=f"<U{self.MAX_CHARS}")
        positions = np.searchsorted(self.words, keys)
        positions[positions >= len(self.words)] = 0
        found = (self.words[positions] == keys) & (keys != "")
        return np.where(found, self.freqs[positions], 0).tolist()


_RUN_SEPARATOR = "\n"  # between Han runs segmented together: jieba's segmenters never join it to a word
_REMAINDER = "\ue000"  # a private-use character: never in a Han run, so never segmented


class _RustJieba:
    """jieba-rs (rjieba): jieba's dictionary and algorithm.

    With a WordTable it starts from an empty dictionary and learns, before segmenting a text, the dictionary words
    that are substrings of it, with their frequencies, plus one word no text contains whose frequency is the rest
    of the dictionary's total. Segmentation (the route of highest probability, log(freq) - log(total) per word,
    over the words found at each position) only ever sees those words and the total, so it is exactly the whole
    dictionary's: a question is segmented without building 350k words first. After FULL_AFTER distinct
    substrings (a build, a long-running bot) the whole dictionary is built and the words added so far replayed.
    """

    FULL_AFTER = 200_000

    def __init__(self, table: WordTable | None) -> None:
        self._jieba_class = _rjieba_class()
        self._lock = threading.Lock()
        self._added: list[tuple[str, int | None, str | None]] = []  # add_word calls, in order, for a replay
        self._table = table
        self._checked: set[str] = set()
        if table is None:
            self.jieba = self._jieba_class()
        else:
            self.jieba = self._jieba_class.empty()
            self._remainder = table.total
            self.jieba.add_word(_REMAINDER, self._remainder, None)

    def _learn(self, text: str) -> None:
        """Teach the partial dictionary every dictionary word inside `text` (under the lock)."""
        table = self._table
        if table is None:
            return
        limit = table.MAX_CHARS
        substrings = {  # runs segmented together (`_RUN_SEPARATOR`) are learnt apart: no word spans two
            part[i:j]
            for part in text.split(_RUN_SEPARATOR)
            for i in range(len(part))
            for j in range(i + 1, min(len(part), i + limit) + 1)
        }
        substrings -= self._checked
        if not substrings:
            return
        if len(self._checked) + len(substrings) > self.FULL_AFTER:
            self._load_whole_dictionary()
            return
        words = list(substrings)
        self._checked.update(words)
        added = 0
        for word, freq in zip(words, table.frequencies(words), strict=True):
            if freq:
                self.jieba.add_word(word, freq, None)
                added += freq
        if added:
            self._remainder -= added
            self.jieba.add_word(_REMAINDER, self._remainder, None)

    def _load_whole_dictionary(self) -> None:
        jieba = self._jieba_class()
        for word, freq, tag in self._added:
            jieba.add_word(word, freq, tag)
        self.jieba, self._table, self._checked = jieba, None, set()

    def tokenize(self, run: str, search: bool) -> Iterable[tuple[str, int, int]]:
        with self._lock:
            self._learn(run)
            return self.jieba.tokenize(run, "search" if search else "default", False)

    def add_word(self, word: str, freq: int | None, tag: str | None) -> None:
        with self._lock:
            self._learn(word)  # its dictionary frequency (replaced) and the words a suggested frequency needs
            self.jieba.add_word(word, freq, tag)
            self._added.append((word, freq, tag))

    def knows(self, word: str) -> bool:
        with self._lock:
            self._learn(word)
            return self.jieba.has_word(word)


def make_segmenter(name: str, cache_dir: Path | None = None, whole: bool = False) -> Segmenter:
    """A segmenter by name. rjieba starts with a partial dictionary when jieba's dictionary is cached (or can be)
    in `cache_dir`, and with its whole one otherwise or when `whole` (a process that will tokenise a corpus)."""
    if name == "rjieba":
        return _RustJieba(WordTable.load(cache_dir) if cache_dir is not None and not whole else None)
    if name in ("jieba", "jieba-fast"):
        return _PythonJieba(name.replace("-", "_"), cache_dir)
    raise ValueError(f"segmenter must be one of {SEGMENTERS}, not {name!r}")


@functools.cache
def segmenter_version(name: str) -> str:
    """The installed version of a segmenter's package ("" when missing), read without importing it: from the
    name of its .dist-info folder beside the package when there is one (importlib.metadata, whose import and
    METADATA parsing cost a cold `footnote ask` ~30 ms, only otherwise)."""
    module = name.replace("-", "_")
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        for folder in (Path(spec.origin).parent.parent, Path(spec.origin).parent):
            for info in folder.glob(f"{module}-*.dist-info"):
                return info.name[len(module) + 1 : -len(".dist-info")]
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


class _WordFrequencies:
    """Word frequencies for `Analyzer.rarity`: jieba's dictionary (a WordTable, loaded on first use), with the
    frequencies of the words added since."""

    def __init__(self, cache_dir: Path | None) -> None:
        self._cache_dir = cache_dir
        self._table: WordTable | None = None
        self._loaded = False
        self._added: dict[str, int] = {}
        self._lock = threading.Lock()

    def _words(self) -> WordTable | None:
        with self._lock:
            if not self._loaded:
                self._table = WordTable.load(self._cache_dir)
                self._loaded = True
            return self._table

    def add(self, word: str, freq: int) -> None:
        self._added[word] = freq

    def frequency(self, word: str) -> int:
        if word in self._added:
            return self._added[word]
        table = self._words()
        return table.frequencies([word])[0] if table is not None else 0

    @property
    def total(self) -> int:
        table = self._words()
        return (table.total if table is not None else 0) + sum(self._added.values())


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

    `userdicts` are jieba user dictionaries (``word freq tag`` per line). `mode` is ``search`` (jieba's search
    mode: long words also yield their dictionary sub-words) or ``precise``. `segmenter` is one of SEGMENTERS;
    `cache_dir` is where the Python jieba segmenters keep their prefix-dictionary cache (a writable data folder).
    """

    def __init__(
        self,
        *,
        userdicts: Sequence[Path] = (),
        mode: str = "search",
        cache_dir: Path | None = None,
        segmenter: str = DEFAULT_SEGMENTER,
        eager: bool = True,
        whole_dictionary: bool = False,
    ) -> None:
        """With `eager=False`, the segmenter's dictionary is loaded on the first tokenisation of Han text rather
        than now: a process that only needs `stem` and `stopwords` (an index build whose tokenising runs in
        worker processes), or only meets Latin text, never loads it."""
        if mode not in MODES:
            raise ValueError(f"tokeniser mode must be one of {MODES}, not {mode!r}")
        if segmenter not in SEGMENTERS:
            raise ValueError(f"segmenter must be one of {SEGMENTERS}, not {segmenter!r}")
        self.mode = mode
        self.segmenter_name = segmenter
        self._cache_dir = cache_dir
        self._whole_dictionary = whole_dictionary
        self._segmenter: Segmenter | None = None
        self._frequencies = _WordFrequencies(cache_dir)
        self._userdicts = list(userdicts)
        self._pending_words: list[tuple[list[str], int]] = []
        self._init_lock = threading.Lock()
        self.stopwords = (
            _load_words("stopwords_zh.txt") | _load_words("stopwords_yue.txt") | _load_words("stopwords_en.txt")
        )
        self._stemmer_local = threading.local()
        self._stems: dict[str, str] = {}
        self._word_terms: dict[str, tuple[str, ...]] = {}
        self._latin_cache: dict[str, tuple[tuple[str, int, int], ...]] = {}
        if eager:
            self.initialize()

    def initialize(self) -> None:
        """Load the segmenter's dictionary, the user dictionaries and the words added so far (once; thread-safe)."""
        if self._segmenter is not None:
            return
        with self._init_lock:
            if self._segmenter is not None:
                return
            segmenter = make_segmenter(self.segmenter_name, self._cache_dir, self._whole_dictionary)
            for path in self._userdicts:
                self._load_userdict(segmenter, path)
            for words, freq in self._pending_words:
                self._add_words(segmenter, words, freq)
            self._pending_words.clear()
            self._segmenter = segmenter

    @property
    def _segment(self) -> Segmenter:
        if self._segmenter is None:
            self.initialize()
        assert self._segmenter is not None
        return self._segmenter

    def _load_userdict(self, segmenter: Segmenter, path: Path) -> None:
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
            word = fold(parts[0])
            segmenter.add_word(word, freq, parts[2] if len(parts) > 2 else None)
            if freq is not None:
                self._frequencies.add(word, freq)

    def add_words(self, words: Iterable[str], freq: int = 2000) -> None:
        """Teach the segmenter extra words (glossary aliases) so they are not split.

        Only words of three or more Han characters that the dictionary does not know yet: a known word keeps
        the frequency its dictionary or the corpus' user dictionary gave it, and a two-character name (何简)
        added at a high frequency would break ordinary phrases around it (如何简单). The glossary still finds
        those names in the text by itself.
        """
        words = list(words)
        with self._init_lock:
            if self._segmenter is None:
                self._pending_words.append((words, freq))
                return
        self._add_words(self._segmenter, words, freq)

    def _add_words(self, segmenter: Segmenter, words: Iterable[str], freq: int) -> None:
        for word in words:
            folded = fold(word)
            if re.fullmatch(f"[{_HAN}]{{3,}}", folded) and not segmenter.knows(folded):
                segmenter.add_word(folded, freq, None)
                self._frequencies.add(folded, freq)

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
        freq = self._frequencies.frequency(word)
        if freq <= 0:
            return 1.0
        information = math.log(self._frequencies.total / freq)
        return min(1.0, max(0.0, (information - 8.0) / 6.0))

    # -- terms ---------------------------------------------------------------------------------------------

    def terms(self, text: str) -> list[str]:
        """Index terms of `text`, in order (duplicates kept: they are term frequencies)."""
        return self.folded_terms(fold(text))

    def folded_terms(self, folded: str) -> list[str]:
        """`terms` of already-folded text."""
        terms: list[str] = []
        self._collect(folded, terms, None)
        return terms

    def spans(self, text: str) -> list[TermSpan]:
        """Index terms of `text` with the original character span of each."""
        folded, offsets = fold_with_offsets(text)
        terms: list[str] = []
        places: list[int] = []
        self._collect(folded, terms, places)
        return [
            TermSpan(term, offsets[places[3 * i]], offsets[places[3 * i + 1] - 1] + 1, bool(places[3 * i + 2]))
            for i, term in enumerate(terms)
        ]

    def is_stopword(self, term: str) -> bool:
        return term in self.stopwords

    def _han_word_terms(self, word: str) -> tuple[str, ...]:
        """The terms one segmented Han word gives (its digits for a numeral, nothing for a stopword)."""
        terms = self._word_terms.get(word)
        if terms is None:
            numbers = zh_numeral(word)  # 二十 is the term 20: digits and numerals meet
            terms = tuple(numbers) if numbers else () if word in self.stopwords else (word,)
            if len(self._word_terms) < _TERM_CACHE_SIZE:
                self._word_terms[word] = terms
        return terms

    def _collect(self, folded: str, terms: list[str], places: list[int] | None) -> None:
        """Append the index terms of folded text to `terms` and, with `places`, three numbers per term: its
        start and end in `folded` and whether it is a character n-gram (see TermSpan).

        The work per term is a dictionary lookup: what a Han word or a Latin word gives is computed once per
        distinct word (`_han_word_terms`, `_latin_terms`); only numbers, whose terms depend on what follows
        them (1.4 万亿), are worked out each time."""
        stop = self.stopwords
        search = self.mode == "search"
        segment = self._segment.tokenize
        word_terms = self._word_terms
        matches: Iterable[re.Match[str]] = _TOKEN_RE.finditer(folded)
        run_terms: Iterator[list[str]] | None = None
        if _termbag is not None and places is None:
            # A build's bags (no places): the Han runs' words and n-grams are looked up and cut in C, and with
            # rjieba all the runs of the text are segmented in one call, joined by a separator (jieba segments
            # each stretch of Han characters on its own: the same words as one call per run, less the per-call
            # cost, a third of rjieba's time on short runs).
            matches = list(matches)
            runs = [match.group() for match in matches if match.lastgroup == "han"]
            if runs:
                miss = self._han_word_terms
                if self.segmenter_name == "rjieba":
                    tokens = segment(_RUN_SEPARATOR.join(runs), search)
                    run_terms = iter(_termbag.han_terms(runs, tokens, word_terms, miss, stop, _MIN_GRAM, _MAX_GRAM))
                else:
                    run_terms = (
                        _termbag.han_terms([run], segment(run, search), word_terms, miss, stop, _MIN_GRAM, _MAX_GRAM)[0]
                        for run in runs
                    )
        for match in matches:
            start = match.start()
            if match.lastgroup == "han":
                if run_terms is not None:
                    terms.extend(next(run_terms))
                    continue
                run = match.group()
                singles: list[int] = []
                for word, w_start, w_end in segment(run, search):
                    found = word_terms.get(word)
                    if found is None:
                        found = self._han_word_terms(word)
                    if found:
                        terms.extend(found)
                        if places is not None:
                            for _ in found:
                                places += (start + w_start, start + w_end, 0)
                    if w_end - w_start == 1:
                        singles.append(w_start)
                if len(singles) >= 2:
                    for g_start, g_end in _unknown_run_grams(run, singles, stop):
                        terms.append(run[g_start:g_end])
                        if places is not None:
                            places += (start + g_start, start + g_end, 1)
                continue
            token = match.group()
            cached = self._latin_cache.get(token)
            if cached is None:
                cached = self._latin_terms(token, folded, start, match.end())
                if cached is None:  # a number: its terms depend on the text after it
                    for term, t_start, t_end in self._number_terms(token, folded, start, match.end()):
                        terms.append(term)
                        if places is not None:
                            places += (t_start, t_end, 0)
                    continue
                if len(self._latin_cache) < _TERM_CACHE_SIZE:
                    self._latin_cache[token] = cached
            for term, t_start, t_end in cached:
                terms.append(term)
                if places is not None:
                    places += (start + t_start, start + t_end, 0)

    def _number_terms(self, token: str, folded: str, start: int, end: int) -> list[tuple[str, int, int]]:
        """Terms of a number token (with absolute places): ``38%`` gives ``38%`` and ``38``, and a number
        written against 万/亿 (``1.4 万亿``) also gives the compound."""
        if token.endswith(("'s", "’s")):
            token = token[:-2]
        if "," in token and token[0].isdigit():
            token = token.replace(",", "")
        out = []
        if token.endswith("%"):
            out.append((token, start, end))
            token = token[:-1]
        out.append((token, start, end))
        unit = _UNIT_RE.match(folded, end)
        if unit:
            out.append((token + unit.group(1), start, unit.end()))
        return out

    def _latin_terms(self, token: str, folded: str, start: int, end: int) -> tuple[tuple[str, int, int], ...] | None:
        """Terms of a Latin token with places relative to its start; None for a number (see _number_terms)."""
        if token.endswith(("'s", "’s")):
            token = token[:-2]
        if "," in token and token[0].isdigit():
            token = token.replace(",", "")
        length = end - start
        measure = _MEASURE_RE.match(token)
        if measure and measure.group(2) in _UNIT_ABBREVIATIONS:  # 16in is 16-inch, 5g is not a measure
            unit = _UNIT_ABBREVIATIONS[measure.group(2)]
            return (
                (measure.group(1), 0, length),
                (self.stem(unit), 0, length),
                (f"{measure.group(1)}-{unit}", 0, length),
            )
        if _NUMBER_RE.match(token):
            return None
        if token in _EN_NUMBERS:  # "twenty" is the term 20
            return ((str(_EN_NUMBERS[token]), 0, length),)
        stop = self.stopwords
        parts = [p for p in _PART_SPLIT_RE.split(token) if p]
        if len(parts) == 1:
            return () if parts[0] in stop else ((self.stem(parts[0]), 0, length),)
        out: list[tuple[str, int, int]] = []
        position = 0
        for part in parts:
            part_start = token.index(part, position)
            position = part_start + len(part)
            if part not in stop:
                out.append((self.stem(part), part_start, position))
        if any(c.isdigit() for c in token):
            # Model names: every prefix compound (gpt-5.2, gpt-5.2-codex) is a term of its own.
            for cut in range(2, len(parts) + 1):
                prefix_end = 0
                for part in parts[:cut]:
                    prefix_end = token.index(part, prefix_end) + len(part)
                out.append((token[:prefix_end], 0, prefix_end))
        return tuple(out)
