"""Chinese names written in Latin letters: Ren Zhengfei <-> 任正非, Ming-Chi Kuo <-> 郭明錤.

News in English gives a Chinese person's name romanised: Hanyu Pinyin on the mainland (Ren Zhengfei), Wade–Giles
in Taiwan (Kuo Ming-chi, Tsai Ing-wen), family name first or last, with or without a hyphen. A reader types the
same in a question ("what did ren zhengfei say"). No dictionary lists these names, but their readings do: the
readings of each character come from pypinyin's character table (its Wade–Giles spelling from pypinyin too).

Two tables are built at index time, both from the corpus, both plain string maps stored in the index:

* `han_name_keys(zh_vocab, ...)`: romanised key -> Han terms of the corpus that look like a Chinese name (two or
  three characters, the first a family name in CC-CEDICT, the whole not a CC-CEDICT word). A question's run of
  Latin words ("ren zhengfei", "Kuo Ming-chi") is looked up by its letters alone.
* `latin_names(texts, ...)`: the romanised names written in the corpus' Latin text (capitalised words that
  spell two to four syllables and are no English word), as syllable keys -> their index terms, and for the
  syllables they use, the characters read that way. A question's Han name (郭明錤) is looked up by the
  readings of its characters, without pypinyin at question time.

Keys are lower-case letters only ("ren zhengfei", "Ren Zheng-fei" and "renzhengfei" are one key); a name is
keyed family name first and last. pypinyin is imported by the build only (~0.4 s); questions never import it.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

# A run of capitalised words; a hyphenated part may be lower case (Kuo Ming-chi, Tsai Ing-wen).
_CAPITALISED_RUN_RE = re.compile(r"\b[A-Z][a-z]+(?:[-‐][A-Za-z][a-z]+)*(?:\s[A-Z][a-z]+(?:[-‐][A-Za-z][a-z]+)*)*\b")
_LETTERS_RE = re.compile(r"[^a-z]")
MAX_KEYS_PER_NAME = 32
NAME_RARITY = 0.95
_NOT_IN_NAMES = frozenset({"ng", "hm", "hng"})
MAX_CHARS_PER_SYLLABLE = 3000


def latin_key(text: str) -> str:
    """Letters only, lower case, accents removed: "Ming-Chi Kuo" -> "mingchikuo", "Lü" -> "lu"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return _LETTERS_RE.sub("", "".join(c for c in decomposed if not unicodedata.combining(c)))


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[dict[int, tuple[str, ...]], frozenset[str]]:
    """Character -> toneless pinyin readings (ü kept), and every syllable spelling (pinyin and Wade–Giles,
    letters only). Built from pypinyin's character table; imported here so that only index builds pay for it."""
    from pypinyin.pinyin_dict import pinyin_dict
    from pypinyin.style.wadegiles import to_wade_glides

    readings: dict[int, tuple[str, ...]] = {}
    syllables: set[str] = set()
    wade: dict[str, str] = {}
    plain_of: dict[str, str] = {}  # ~50k readings, ~1.5k distinct
    for code, spelled in pinyin_dict.items():
        toneless: list[str] = []
        for reading in spelled.split(","):
            plain = plain_of.get(reading)
            if plain is None:
                plain = plain_of[reading] = _toneless(reading)
            if plain and plain not in toneless:
                toneless.append(plain)
        readings[code] = tuple(toneless)
        for plain in toneless:
            if plain not in wade:
                wade[plain] = to_wade_glides(plain)
    for plain, wg in wade.items():
        syllables.add(latin_key(plain))
        syllables.add(latin_key(wg))
    # One-letter syllables (a, o, e, i in Wade–Giles, the interjection m) and ng, hm would split any English word
    # into "syllables" (Samsung -> sa-m-sung, Hanoi -> han-o-i); names are not spelt with them.
    return readings, frozenset(s for s in syllables if len(s) > 1 and s not in _NOT_IN_NAMES)


def _toneless(reading: str) -> str:
    decomposed = unicodedata.normalize("NFD", reading.strip())
    kept = "".join(c for c in decomposed if not unicodedata.combining(c) or c == "\u0308")
    return unicodedata.normalize("NFC", kept)


@functools.lru_cache(maxsize=4096)
def _spellings(syllable: str) -> tuple[str, ...]:
    """A toneless pinyin syllable as a reader may type it: pinyin and Wade–Giles, letters only."""
    from pypinyin.style.wadegiles import to_wade_glides

    return tuple(dict.fromkeys((latin_key(syllable), latin_key(to_wade_glides(syllable)))))


def char_spellings(char: str) -> tuple[str, ...]:
    """Every way a reader may spell one character's readings (pinyin and Wade–Giles, letters only)."""
    readings, _ = _tables()
    out: dict[str, None] = {}
    for reading in readings.get(ord(char), ()):
        for spelling in _spellings(reading):
            out.setdefault(spelling, None)
    return tuple(out)


def name_keys(name: str, family_length: int = 1) -> list[str]:
    """Romanised keys of a Han name: every combination of its characters' readings, spelled in pinyin or in
    Wade–Giles (one system per key), family name first and given name first; at most MAX_KEYS_PER_NAME."""
    readings, _ = _tables()
    # Every reading of the family name (任 rén/rèn, 单 shàn), the usual reading of the given name's characters.
    per_char = [readings.get(ord(c), ())[: None if i < family_length else 1] for i, c in enumerate(name)]
    if not all(per_char):
        return []
    keys: dict[str, None] = {}
    for combo in itertools.islice(itertools.product(*per_char), 16):
        for system in (0, 1):
            spelled = [_spellings(syllable)[min(system, len(_spellings(syllable)) - 1)] for syllable in combo]
            family, given = "".join(spelled[:family_length]), "".join(spelled[family_length:])
            keys.setdefault(family + given, None)
            keys.setdefault(given + family, None)
    return list(keys)[:MAX_KEYS_PER_NAME]


def split_syllables(word: str) -> list[str] | None:
    """A Latin word as a sequence of pinyin / Wade–Giles syllables ("zhengfei" -> zheng, fei), preferring
    fewer, longer syllables; None when it does not spell syllables."""
    _, syllables = _tables()
    word = latin_key(word)

    @functools.cache
    def parse(start: int) -> tuple[str, ...] | None:
        if start == len(word):
            return ()
        for end in range(min(len(word), start + 6), start, -1):
            piece = word[start:end]
            if piece in syllables:
                rest = parse(end)
                if rest is not None:
                    return (piece, *rest)
        return None

    result = parse(0)
    return list(result) if result is not None else None


def han_name_keys(
    zh_vocab: Iterable[str],
    surnames: Collection[str],
    words: Collection[str],
    han_char: re.Pattern[str],
    rarity: Callable[[str], float] = lambda term: 1.0,
    df: Callable[[str], int] = lambda term: 2,
) -> dict[str, list[str]]:
    """Romanised key -> the corpus' Han terms that look like a Chinese name (see the module docstring): two to
    four characters starting with a family name, no CC-CEDICT word, and rare in general use (`rarity` at least
    NAME_RARITY: jieba's dictionary holds famous names, rarely; 万亿 and 业内 start with a family name too). A
    term at the top of that scale (an n-gram of an unknown word, a name jieba barely knows) must occur in two
    passages (`df`): news names its people more than once, and the n-grams of a large corpus would otherwise
    fill the table (CMRC dev, 1,271 passages: 49,207 keys without this rule, about 8,000 with it)."""
    table: dict[str, list[str]] = {}
    for term in zh_vocab:
        if not 2 <= len(term) <= 4 or term in words or not han_char.fullmatch(term):
            continue
        known = rarity(term)
        if known < NAME_RARITY or (known >= 1.0 and df(term) < 2):
            continue
        if len(term) == 4 and term[:2] in surnames:
            family = 2
        elif len(term) <= 3 and term[0] in surnames:
            family = 1
        else:
            continue
        for key in name_keys(term, family):
            targets = table.setdefault(key, [])
            if term not in targets:
                targets.append(term)
    return table


@dataclass
class LatinNames:
    """Romanised names of the corpus' Latin text: syllable key ("ming chi kuo") -> their index terms, and the
    characters (as they are folded) that read as each syllable used. Also the initials of its capitalised
    names ("MacBook Pro" -> mbp, "Global Positioning System" -> gps) -> their index terms: the shorthand a
    reader types for a product or an organisation the text writes in full."""

    names: dict[str, list[str]] = field(default_factory=dict)
    chars: dict[str, str] = field(default_factory=dict)
    initials: dict[str, list[str]] = field(default_factory=dict)


def latin_names(texts: Iterable[str], english: Collection[str], stem: Callable[[str], str] | None = None) -> LatinNames:
    """Find the romanised names of `texts` (see the module docstring). `english` holds English words (a name
    that is one is left to the dictionary: "China", "Long"); `stem` makes the index terms of a name's words."""
    readings, _ = _tables()
    found = LatinNames()
    seen: set[str] = set()  # a run seen before adds nothing (news repeats its names; a build reads every text)
    for text in texts:
        for run in _CAPITALISED_RUN_RE.finditer(text):
            if run.group() in seen:
                continue
            seen.add(run.group())
            names = run.group().split()
            for first in range(len(names)):
                for last in range(first + 1, min(len(names), first + 3) + 1):
                    _add_name(found, names[first:last], english, stem)
            _add_initials(found, names, stem)
    used = {s for key in found.names for s in key.split()}
    by_syllable: dict[str, list[str]] = {s: [] for s in used}
    for code, toneless in readings.items():
        char = chr(code)
        for reading in toneless:
            for spelling in _spellings(reading):
                if spelling in by_syllable and char not in by_syllable[spelling]:
                    by_syllable[spelling].append(char)
    found.chars = {s: "".join(chars[:MAX_CHARS_PER_SYLLABLE]) for s, chars in by_syllable.items() if chars}
    return found


def _add_name(found: LatinNames, names: list[str], english: Collection[str], stem: Callable[[str], str] | None) -> None:
    written = " ".join(names)
    if latin_key(written) in english or all(latin_key(name) in english for name in names):
        return
    words = re.split(r"[-‐\s]", written)
    syllables: list[str] = []
    for word in words:
        parts = split_syllables(word)
        if parts is None:
            return
        syllables.extend(parts)
    if not 2 <= len(syllables) <= 4:
        return
    terms = [stem(w.lower()) if stem else w.lower() for w in words]
    targets = found.names.setdefault(" ".join(syllables), [])
    targets.extend(t for t in terms if t not in targets)


_CAPITAL_RE = re.compile(r"[A-Z]")


def _add_initials(found: LatinNames, names: list[str], stem: Callable[[str], str] | None) -> None:
    """Initials of every two to four consecutive capitalised words: each word's capitals (MacBook -> mb)."""
    for first in range(len(names)):
        for last in range(first + 2, min(len(names), first + 4) + 1):
            words = names[first:last]
            initials = "".join("".join(_CAPITAL_RE.findall(w)) for w in words).lower()
            if not 2 < len(initials) <= 5:
                continue
            terms = [stem(w.lower()) if stem else w.lower() for w in words]
            targets = found.initials.setdefault(initials, [])
            targets.extend(t for t in terms if t not in targets)


class NameMatcher:
    """Question-time lookups over the two tables (plain dictionaries as stored in the index)."""

    def __init__(
        self, han_keys: dict[str, str], latin: dict[str, str], chars: dict[str, str], initials: dict[str, str]
    ) -> None:
        self.han_keys = han_keys  # key -> "term term"
        self.latin = latin  # "ming chi kuo" -> "ming chi kuo" (terms)
        self.initials = initials  # "mbp" -> "macbook pro"
        self._syllables_of: dict[str, list[str]] = {}
        for syllable, characters in chars.items():
            for char in characters:
                self._syllables_of.setdefault(char, []).append(syllable)
        self._sizes = sorted({key.count(" ") + 1 for key in latin}, reverse=True)

    def han_windows(self, folded: str) -> Iterable[tuple[int, int]]:
        """(start, end) of the windows of `folded` Han text that may read as one of the corpus' romanised names:
        as many characters as a name has syllables, every one read as a syllable some name uses."""
        if not self._sizes:
            return
        known = 0
        for end, char in enumerate(folded, 1):
            known = known + 1 if char in self._syllables_of else 0
            for size in self._sizes:
                if size <= known:
                    yield end - size, end

    def han_for_latin(self, letters: str) -> list[str]:
        """Han terms whose romanisation is `letters` (a run of Latin words, letters only)."""
        packed = self.han_keys.get(letters)
        return packed.split(" ") if packed else []

    def latin_for_han(self, folded: str) -> list[str]:
        """Index terms of the corpus' romanised names that `folded` (2 to 4 Han characters) reads as, family
        name first or last."""
        options = [self._syllables_of.get(char) for char in folded]
        if not all(options) or not self.latin:
            return []
        found: list[str] = []
        for combo in itertools.islice(itertools.product(*options), 256):  # type: ignore[arg-type]
            for order in (combo, (*combo[1:], combo[0])):
                packed = self.latin.get(" ".join(order))
                if packed:
                    found.extend(t for t in packed.split(" ") if t not in found)
        return found
