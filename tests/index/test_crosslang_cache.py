"""CC-CEDICT's link candidates kept in the data folder: the same links as computed afresh, in the same order
(the index file stores them in that order), and a damaged cache file is made again rather than trusted."""

from __future__ import annotations

import marshal

import pytest

from index import crosslang
from index.crosslang import link_candidates
from index.tokenize import Analyzer

_ZH = {"芯片", "广告", "华为", "河内", "库克", "苹果", "联邦调查局", "海岸警卫队", "软件", "不是词语的词"}
_EN = {"chip", "advertis", "huawei", "hanoi", "cook", "appl", "fbi", "softwar", "coast", "guard"}


def _as_lists(candidates):
    """The candidates with the order of their terms and targets (a dict compares equal in any order)."""
    en_to_zh, zh_to_en, lexicon = candidates
    return (
        [(term, list(targets.items())) for term, targets in en_to_zh.items()],
        [(term, list(targets.items())) for term, targets in zh_to_en.items()],
        vars(lexicon),
    )


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(eager=False)


@pytest.fixture(scope="module")
def afresh(analyzer):
    return _as_lists(link_candidates(_ZH, _EN, analyzer.stem, analyzer.stopwords))


def _cache_files(folder):
    return sorted(folder.glob("cedict-links-*.marshal"))


def test_cached_candidates_are_those_computed_afresh_in_the_same_order(tmp_path, analyzer, afresh):
    made = link_candidates(_ZH, _EN, analyzer.stem, analyzer.stopwords, tmp_path)
    [cache] = _cache_files(tmp_path)
    written = cache.stat().st_mtime_ns
    read = link_candidates(_ZH, _EN, analyzer.stem, analyzer.stopwords, tmp_path)
    assert cache.stat().st_mtime_ns == written  # read, not made again
    assert _as_lists(made) == afresh
    assert _as_lists(read) == afresh
    assert afresh[0] and afresh[1]  # the vocabularies do have links (the comparison is not of empty tables)
    assert "不是词语的词" not in afresh[2]["zh_words"] and "芯片" in afresh[2]["zh_words"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: b"not a cache at all",
        lambda blob: blob[: len(blob) // 2],  # cut short
        lambda blob: marshal.dumps({"a": 1}),  # readable, but something else
        lambda blob: marshal.dumps((*marshal.loads(blob)[:-1], "0" * 16)),  # another key inside
    ],
    ids=["garbage", "truncated", "other-object", "other-key"],
)
def test_a_damaged_cache_is_made_again(tmp_path, analyzer, afresh, damage):
    link_candidates(_ZH, _EN, analyzer.stem, analyzer.stopwords, tmp_path)
    [cache] = _cache_files(tmp_path)
    good = cache.read_bytes()
    cache.write_bytes(damage(good))
    again = link_candidates(_ZH, _EN, analyzer.stem, analyzer.stopwords, tmp_path)
    assert _as_lists(again) == afresh
    assert _cache_files(tmp_path) == [cache] and cache.read_bytes() == good


def test_an_unwritable_data_folder_still_gives_the_links(tmp_path, analyzer, afresh):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would be", encoding="utf-8")
    assert _as_lists(link_candidates(_ZH, _EN, analyzer.stem, analyzer.stopwords, blocked)) == afresh


def test_the_cache_is_named_by_what_the_links_are_made_of(analyzer):
    key = crosslang._cache_key(analyzer.stem, analyzer.stopwords)
    assert key is not None
    assert crosslang._cache_key(analyzer.stem, analyzer.stopwords | {"zebra"}) != key
