"""The bilingual glossary: entities and key terms with their aliases in every script and language.

Every passage that mentions any alias of an entry also gets the entry's concept term (``@<id>``), so a question
naming "Altman" can reach a passage that only says 奥特曼 through one shared term. The glossary is corpus data
(``glossary.toml`` in the corpus folder); later commands use it for speakers and subjects too.
"""

from __future__ import annotations

import functools
import logging
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from index.corpus import read_data_file
from index.normalize import fold, fold_with_offsets

log = logging.getLogger(__name__)

CONCEPT_PREFIX = "@"


@dataclass(frozen=True)
class Entry:
    id: str
    canonical: str
    kind: str
    aliases: tuple[str, ...]
    roles: tuple[str, ...] = ()

    @property
    def term(self) -> str:
        return CONCEPT_PREFIX + self.id


@dataclass(frozen=True, slots=True)
class Mention:
    entry: Entry
    start: int
    end: int


def _entry(raw: object) -> Entry | str:
    """A glossary entry from its TOML table, or what is wrong with it."""
    if not isinstance(raw, dict):
        return f"{raw!r} is not a table"
    ident, aliases = raw.get("id"), raw.get("aliases")
    if not isinstance(ident, str) or not ident.strip():
        return f"id {ident!r} is not text"
    if not isinstance(aliases, list) or not aliases or not all(isinstance(a, str) and a.strip() for a in aliases):
        return f"{ident!r}: aliases {aliases!r} is not a list of names"
    for name in ("canonical", "kind"):
        if name in raw and not isinstance(raw[name], str):
            return f"{ident!r}: {name} {raw[name]!r} is not text"
    roles = raw.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        return f"{ident!r}: roles {roles!r} is not a list of text"
    return Entry(
        id=ident,
        canonical=str(raw.get("canonical") or aliases[0]),
        kind=str(raw.get("kind", "term")),
        aliases=tuple(aliases),
        roles=tuple(roles),
    )


def _is_latin(alias: str) -> bool:
    return bool(re.search(r"[a-z0-9]", alias)) and not re.search(r"[\u3400-\u9fff]", alias)


@dataclass(frozen=True, slots=True)
class _Hit:
    alias: str
    start: int
    end: int


def _standalone(text: str, start: int, end: int) -> bool:
    """A Latin alias stands alone: not inside a longer word, and not the start of a longer version name
    ("gpt-5" is not mentioned by "gpt-5.2", nor "gpt-5.2" by "gpt-5.2-codex")."""
    if start > 0 and _is_word_char(text[start - 1]):
        return False
    if end < len(text):
        following = text[end]
        if _is_word_char(following):
            return False
        if following in ".-" and end + 1 < len(text) and _is_word_char(text[end + 1]):
            return False
    return True


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


class Glossary:
    """Alias lookup over folded text. Overlapping mentions are all reported: "Gemini 3 Pro" also mentions
    "Gemini 3" and "Gemini" when those are entries of their own."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.by_id = {entry.id: entry for entry in self.entries}
        self._by_alias: dict[str, list[Entry]] = {}
        for entry in self.entries:
            for alias in {fold(a).strip() for a in (*entry.aliases, entry.canonical) if a.strip()}:
                self._by_alias.setdefault(alias, []).append(entry)
        aliases = sorted(self._by_alias, key=len, reverse=True)
        # Candidates by their first two characters, longest first: a scan costs a dict lookup per position.
        self._by_prefix: dict[str, list[str]] = {}
        for alias in aliases:
            self._by_prefix.setdefault(alias[:2], []).append(alias)
        self._latin = {alias for alias in aliases if _is_latin(alias)}
        # Aliases found inside a longer alias ("gemini" inside "gemini 3 pro") count as mentioned with it.
        self._inner: dict[str, list[tuple[Entry, int, int]]] = {}
        for alias in reversed(aliases):  # shortest first, so an inner alias' own inner mentions are known
            inner: list[tuple[Entry, int, int]] = []
            for hit in self._scan(alias, skip=alias):
                inner.extend((entry, hit.start, hit.end) for entry in self._by_alias[hit.alias])
                inner.extend((entry, hit.start + s, hit.start + e) for entry, s, e in self._inner[hit.alias])
            self._inner[alias] = inner

    def _scan(self, folded: str, skip: str | None = None) -> list[_Hit]:
        """Leftmost-longest alias occurrences in folded text (Latin aliases only as whole words)."""
        if skip is None:
            return self._scan_automaton(folded) if self._by_alias else []
        hits: list[_Hit] = []
        position, length = 0, len(folded)
        while position < length:
            matched = None
            for alias in self._by_prefix.get(folded[position : position + 2], ()):
                if alias == skip or not folded.startswith(alias, position):
                    continue
                end = position + len(alias)
                if alias in self._latin and not _standalone(folded, position, end):
                    continue
                matched = _Hit(alias, position, end)
                break
            if matched is None:
                position += 1
            else:
                hits.append(matched)
                position = matched.end
        return hits

    def _scan_automaton(self, folded: str) -> list[_Hit]:
        """`_scan` (without `skip`) from every alias occurrence an Aho-Corasick automaton finds in one pass in C,
        where the scan looks up the next two characters at every position in Python: at each start, in order,
        the longest alias that may match there (a Latin one standing alone; a one-character one only as the
        text's last character, as the scan's two-character lookup has it), and the next start after its end."""
        at: dict[int, list[str]] = {}
        for end, alias in self._automaton.iter(folded):
            at.setdefault(end + 1 - len(alias), []).append(alias)
        hits: list[_Hit] = []
        position = 0
        last = len(folded) - 1
        for start in sorted(at):
            if start < position:
                continue
            for alias in sorted(at[start], key=len, reverse=True):
                end = start + len(alias)
                if len(alias) == 1 and start != last:
                    continue
                if alias in self._latin and not _standalone(folded, start, end):
                    continue
                hits.append(_Hit(alias, start, end))
                position = end
                break
        return hits

    @functools.cached_property
    def _automaton(self) -> ahocorasick.Automaton:
        automaton = ahocorasick.Automaton()
        for alias in self._by_alias:
            automaton.add_word(alias, alias)
        automaton.make_automaton()
        return automaton

    @classmethod
    def load(cls, path: Path) -> Glossary:
        """Load ``glossary.toml``; a missing file is an empty glossary. A broken one (not TOML, not a file) is
        ignored and an entry of the wrong shape is left out, each file's problems said in one warning."""
        data = read_data_file(path)
        if data is None:
            return cls(())
        try:
            document = tomllib.loads(data.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            log.warning("%s is not valid TOML (%s); glossary ignored", path, exc)
            return cls(())
        raw_entries = document.get("entry", [])
        if not isinstance(raw_entries, list):
            log.warning("%s: `entry` must be an array of tables ([[entry]]); glossary ignored", path)
            return cls(())
        entries, problems = [], []
        for number, raw in enumerate(raw_entries, 1):
            entry = _entry(raw)
            if isinstance(entry, str):
                problems.append(f"entry {number}: {entry}")
            else:
                entries.append(entry)
        if problems:
            log.warning("%s: %d entries ignored: %s", path, len(problems), "; ".join(problems))
        return cls(entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def han_aliases(self) -> list[str]:
        return [alias for alias in self._by_alias if not _is_latin(alias)]

    def find_folded(self, folded: str) -> list[Mention]:
        """Mentions in already-folded text, offsets into that text."""
        mentions: list[Mention] = []
        for hit in self._scan(folded):
            mentions.extend(Mention(entry, hit.start, hit.end) for entry in self._by_alias[hit.alias])
            mentions.extend(
                Mention(entry, hit.start + start, hit.start + end) for entry, start, end in self._inner[hit.alias]
            )
        return mentions

    def find(self, text: str) -> list[Mention]:
        """Mentions in original text, offsets into the original text."""
        folded, offsets = fold_with_offsets(text)
        return [Mention(m.entry, offsets[m.start], offsets[m.end - 1] + 1) for m in self.find_folded(folded)]

    def concept_terms(self, folded: str) -> list[str]:
        """The concept terms (one per distinct entry mentioned) of already-folded text."""
        seen: dict[str, None] = {}
        for mention in self.find_folded(folded):
            seen.setdefault(mention.entry.term, None)
        return list(seen)

    def lookup(self, name: str) -> Entry | None:
        """The entry one of whose aliases (or id) is exactly `name`, folded."""
        key = fold(name).strip()
        if key in self._by_alias:
            return self._by_alias[key][0]
        return self.by_id.get(name.strip().lower())
