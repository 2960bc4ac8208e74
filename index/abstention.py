"""Is the question answered by this corpus? A calibrated decision from signals that hold on any corpus.

The old rule abstained when the best passage covered less than half of the question's words, weighing a word the
corpus lacks as if it were a rare name: an everyday word a user typed ("lol", "starting", 幾多) sank answerable
questions. Here a missing word weighs what it weighs in the *language* (English: wordfreq's frequency list;
Chinese: jieba's dictionary frequencies), and the decision combines several signals, each computed from the
ranking the engine already did:

- ``missing``: the share of the question's general informativeness that the best of the first three passages
  does not match (a unit matches literally, through a glossary alias, a dictionary link, or a sub-word at half);
- ``worst``: the general informativeness of the most telling unit that passage misses (a rare name or a number);
- ``absent``: the share of general informativeness of units the whole corpus lacks;
- ``coverage``: the engine's corpus-idf coverage of that passage (Engine.coverage);
- ``relative``: the first passage's BM25 score over the best score the question could reach in this corpus (each
  concept at the largest contribution any passage gives it);
- ``gap``: how far the first passage's ranking score stands above the second's, relative to it;
- ``units``: log(1 + number of units);
- ``phrases``: the share of the question's adjacent word pairs (two units with nothing or only space between
  them) found as they are written in that passage (0 when the question has no such pair);
- ``characters``: the share of the Chinese characters of the question's units found in that passage (a
  segmentation that differs between question and text still shows; 0 for a question without Chinese);
- ``matched``: the general informativeness the passage does match, summed (evidence in absolute terms);
- ``rarest``: the general informativeness of the most telling unit it matches;
- ``capitals``: the share of the question's capitalised words (not the first word: names in English) it misses;
- ``answer_type``: 1 when the question asks for a number or a time (how many, when, 多少, 幾時) and the passage
  states no figure at all.

A logistic model over the signals and their pairwise products gives the probability that the corpus answers. Its
weights and the two cut-offs (abstain below `abstain_p`; "weak match" below `confident_p`), in
index/data/abstention.json, were fitted on the fit halves of
abstention splits built from ../shared/bench (``python -m index.fit abstention``): in each SQuAD-format file,
a share of the articles is the corpus, their questions are answerable, the other articles' questions must abstain.
Figures on the held-out halves and the dev sets are in docs/quality.md.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import itertools
import json
import logging
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FEATURES = (
    "missing", "worst", "absent", "coverage", "relative", "gap", "units", "phrases", "characters", "matched", "rarest",
    "capitals", "answer_type",
)  # fmt: skip
MODEL_FILE = "abstention.json"  # index/data/: written by `python -m index.fit abstention --write`


@dataclass(frozen=True)
class Model:
    """The fitted model: standardisation and weights of the signals and of their pairwise products (the
    signals interact: a missing word matters less when the passage matches the rest in the same phrase), the two
    probability cut-offs, and a note of what it was fitted on."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float
    abstain_p: float
    confident_p: float
    fitted_on: str = ""

    @classmethod
    def load(cls) -> Model:
        raw = json.loads(resources.files("index.data").joinpath(MODEL_FILE).read_text(encoding="utf-8"))
        if tuple(raw["features"]) != FEATURES:
            raise ValueError(f"{MODEL_FILE} was fitted on other signals: refit with python -m index.fit abstention")
        return cls(
            tuple(raw["features"]),
            np.asarray(raw["mean"]),
            np.asarray(raw["scale"]),
            np.asarray(raw["weights"]),
            float(raw["intercept"]),
            float(raw["abstain_p"]),
            float(raw["confident_p"]),
            raw.get("fitted_on", ""),
        )

    def probability(self, signals: np.ndarray) -> float:
        """The probability that the corpus answers, for one row of FEATURES."""
        z = (expand(np.asarray(signals, dtype=np.float64)[None, :])[0] - self.mean) / self.scale
        return 1.0 / (1.0 + math.exp(-float(np.clip(z @ self.weights + self.intercept, -50, 50))))


def expand(rows: np.ndarray) -> np.ndarray:
    """The model's inputs: each signal, then every product of two signals (squares included), in the order of
    itertools.combinations_with_replacement."""
    first, second = _pairs(rows.shape[1])
    return np.hstack([rows, rows[:, first] * rows[:, second]])


@functools.cache
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    pairs = np.asarray(list(itertools.combinations_with_replacement(range(n), 2)), dtype=np.int64).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


@functools.cache
def model() -> Model:
    return Model.load()


_ZIPF_COMMON = 6.0  # a word this frequent (per billion words: 10**(zipf)) tells nothing
_ZIPF_RARE = 3.0  # a word at most this frequent (once per million words) is as telling as a name
_LATIN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_INFLECTIONS = (
    ("'s", ""), ("s", ""), ("es", ""), ("ies", "y"), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("d", "")
)  # fmt: skip


@functools.cache
def english_zipf() -> dict[str, float]:
    """English word -> Zipf frequency (log10 of occurrences per billion words), from wordfreq's "small" list
    (the ~29k words at Zipf >= 3; a word not in it is rarer). Read straight from the package's data file, in its
    documented cBpack format (a header, then lists of words by centibel of frequency): importing wordfreq itself
    costs a second of start-up for language-code tables this needs none of. Empty if wordfreq is missing."""
    spec = importlib.util.find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        log.warning("wordfreq is not installed: missing English words all count as rare")
        return {}
    import msgpack

    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "small_en.msgpack.gz"
    try:
        with gzip.open(path) as handle:
            header, *buckets = msgpack.load(handle, raw=False)
    except (OSError, ValueError) as exc:
        log.warning("cannot read wordfreq's English list (%s): missing English words all count as rare", exc)
        return {}
    if not isinstance(header, dict) or header.get("format") != "cB":
        log.warning("wordfreq's English list has an unknown format: missing English words all count as rare")
        return {}
    return {word: 9.0 - centibels / 100.0 for centibels, bucket in enumerate(buckets) for word in bucket}


def latin_informativeness(surface: str) -> float:
    """How telling an English word (or Latin-script token) is in the language, 0 (everyday) .. 1 (rare, a name,
    a number): its Zipf frequency mapped from [_ZIPF_RARE, _ZIPF_COMMON] onto [1, 0]."""
    word = surface.lower().replace("’", "'")
    if any(c.isdigit() for c in word):
        return 1.0
    if not _LATIN_WORD.fullmatch(word):
        return 1.0
    table = english_zipf()
    # The list holds inflected forms too, but not all: "elects", "pressurized" count as their base word.
    forms = [word]
    for suffix, replacement in _INFLECTIONS:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: len(word) - len(suffix)]
            forms.append(base + replacement)
            if not replacement and len(base) >= 4 and base[-1] == base[-2]:  # plugging, stopped
                forms.append(base[:-1])
    zipf = max((table[form] for form in forms if form in table), default=None)
    if zipf is None:
        return 1.0
    return min(1.0, max(0.0, (_ZIPF_COMMON - zipf) / (_ZIPF_COMMON - _ZIPF_RARE)))


@dataclass(frozen=True)
class Decision:
    """The abstention decision for one question: the signals, the probability and what follows from it."""

    signals: tuple[float, ...]
    probability: float
    abstain: bool
    confidence: str  # "high", "low", or "none" when abstaining

    @classmethod
    def of(cls, signals: np.ndarray, easing: float = 1.0) -> Decision:
        fitted = model()
        p = fitted.probability(signals)
        abstain = p < fitted.abstain_p * easing
        confidence = "none" if abstain else "high" if p >= fitted.confident_p else "low"
        return cls(tuple(float(s) for s in signals), p, abstain, confidence)
