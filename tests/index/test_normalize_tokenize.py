import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from index.corpus import document_files
from index.normalize import fold, fold_with_offsets, is_traditional
from index.tokenize import Analyzer, WordTable


def test_fold_nfkc_traditional_and_case():
    assert fold("ＧＰＴ－５．２") == "gpt-5.2"
    assert fold("紅色警報") == "红色警报"
    assert fold("6.5 億") == "6.5 亿"
    assert fold("Sam ALTMAN") == "sam altman"


def test_fold_with_offsets_maps_back_to_the_original():
    text = "ﬁrst 紅色警報 ＡＩ"  # the ligature expands to two characters under NFKC
    folded, offsets = fold_with_offsets(text)
    assert folded.startswith("first")
    assert len(offsets) == len(folded)
    start = folded.index("红色")
    assert text[offsets[start] : offsets[start + 3] + 1] == "紅色警報"


def test_is_traditional():
    assert is_traditional("奧爾特曼發布內部信,宣布公司已進入紅色警報狀態")
    assert not is_traditional("奥特曼发布内部信,宣布公司已进入红色警报状态")


def test_simplified_and_traditional_give_the_same_terms(analyzer: Analyzer):
    assert analyzer.terms("奥特曼宣布进入红色警报") == analyzer.terms("奧特曼宣布進入紅色警報")


def test_english_stemming_and_stopwords(analyzer: Analyzer):
    terms = analyzer.terms("What did the analysts say about the users?")
    assert "analyst" in terms and "user" in terms
    assert "the" not in terms and "what" not in terms


def test_numbers_and_percentages_stay_searchable(analyzer: Analyzer):
    terms = analyzer.terms("降低了38%,投入1.4万亿美元,月活 6.5 億")
    assert {"38%", "38", "1.4", "1.4万亿", "6.5亿"} <= set(terms)


def test_model_names_give_parts_and_prefix_compounds(analyzer: Analyzer):
    terms = analyzer.terms("GPT-5.2-Codex")
    assert {"gpt", "5.2", "codex", "gpt-5.2", "gpt-5.2-codex"} <= set(terms)


def test_user_dictionary_keeps_corpus_terms_whole(analyzer: Analyzer):
    assert "红色警报" in analyzer.terms("拉响红色警报")
    assert "奥尔特曼" in analyzer.terms("奧爾特曼發布內部信")


def test_mixed_text_spans_point_into_the_original(analyzer: Analyzer):
    text = "Ｇｅｍｉｎｉ 的月活用戶尚只有 3.5 億"
    for span in analyzer.spans(text):
        assert span.term == fold(text[span.start : span.end]).replace(" ", "") or span.term in fold(
            text[span.start : span.end]
        )


def test_search_and_precise_modes_differ_only_by_sub_words(tmp_path):
    precise = Analyzer(mode="precise")
    search = Analyzer(mode="search")
    sentence = "中华人民共和国成立"
    assert set(precise.terms(sentence)) <= set(search.terms(sentence))
    assert len(search.terms(sentence)) > len(precise.terms(sentence))


# -- segmenters: rjieba (default, with its partial dictionary), jieba (the reference), jieba-fast ------------------

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
SHARED_BENCH = ROOT.parent / "shared" / "bench"


def _sample_texts() -> list[str]:
    """The seed documents and CMRC 2018 / DRCD paragraphs: text the tokeniser was not written against."""
    texts = [p.read_text(encoding="utf-8") for p in document_files(SEEDS)]
    for name in ("cmrc2018/cmrc2018_dev.json", "drcd/DRCD_dev.json"):
        path = SHARED_BENCH / name
        if not path.exists():
            pytest.fail(f"{path} is missing (../shared/bench)")
        data = json.loads(path.read_text(encoding="utf-8"))
        texts.extend(p["context"] for article in data["data"][:15] for p in article["paragraphs"])
    return texts


def _analyzer(segmenter: str, cache_dir: Path | None, mode: str = "search") -> Analyzer:
    analyzer = Analyzer(userdicts=[SEEDS / "userdict.txt"], mode=mode, cache_dir=cache_dir, segmenter=segmenter)
    analyzer.add_words(["红色警报状态", "深度求索公司", "奥尔特曼"])  # glossary-like aliases (one already known)
    return analyzer


@pytest.mark.parametrize("mode", ["search", "precise"])
def test_partial_dictionary_segments_exactly_like_the_whole_one(tmp_path, mode):
    # The lazy rjieba (words learnt per text, the total kept by a remainder word) against rjieba with its whole
    # dictionary, user dictionary and added words included, text by text in the same order.
    lazy = _analyzer("rjieba", tmp_path, mode)
    whole = _analyzer("rjieba", None, mode)
    assert lazy._segment._table is not None and whole._segment._table is None
    for text in _sample_texts():
        assert lazy.terms(text) == whole.terms(text)
    assert lazy._segment._table is not None  # still partial: the sample stays under FULL_AFTER substrings


def test_partial_dictionary_switches_to_the_whole_one_and_replays_added_words(tmp_path, monkeypatch):
    from index import tokenize

    monkeypatch.setattr(tokenize._RustJieba, "FULL_AFTER", 3000)
    lazy = _analyzer("rjieba", tmp_path)
    whole = _analyzer("rjieba", None)
    texts = _sample_texts()[:40]
    assert [lazy.terms(t) for t in texts] == [whole.terms(t) for t in texts]
    assert lazy._segment._table is None  # switched to the whole dictionary on the way
    assert "红色警报" in lazy.terms("拉响红色警报") and "红色警报状态" in lazy.terms("进入红色警报状态")


def test_the_dictionary_cache_is_made_once_and_memory_mapped(tmp_path):
    table = WordTable.load(tmp_path)
    assert table is not None and len(table.words) > 300_000
    cached = sorted(p.name for p in tmp_path.glob("jieba-*.npy"))
    assert len(cached) == 2
    again = WordTable.load(tmp_path)
    assert isinstance(again.words, np.memmap) and again.total == table.total
    assert again.frequencies(["中国", "的", "not-a-word", "一" * 20]) == [*table.frequencies(["中国", "的"]), 0, 0]
    assert table.frequencies(["中国"])[0] > 1000


def test_rarity_uses_jieba_frequencies_and_added_words(tmp_path):
    analyzer = _analyzer("rjieba", tmp_path)
    assert analyzer.rarity("中国") < 0.2  # very common
    assert analyzer.rarity("畸形龙属") == 1.0  # unknown to the dictionary
    assert analyzer.rarity("奥特曼") < analyzer.rarity("畸形龙属")  # the user dictionary gave it a frequency


@pytest.mark.parametrize("segmenter", ["jieba", "jieba-fast"])
def test_other_segmenters_agree_on_the_seeds(tmp_path, segmenter):
    # jieba is the reference; jieba-fast its C port (the test extra installs it). Agreement on a whole corpus is
    # measured by `footnote bench --tokenizers`; here: the seeds, with the seeds' user dictionary, token for token.
    if segmenter == "jieba-fast":
        assert importlib.util.find_spec("jieba_fast") is not None, "jieba-fast missing: pip install -e '.[test]'"
    reference = _analyzer("rjieba", tmp_path)
    other = _analyzer(segmenter, tmp_path)
    texts = [p.read_text(encoding="utf-8") for p in document_files(SEEDS)]
    assert len(texts) == 5
    agree = sum(reference.terms(t) == other.terms(t) for t in texts)
    assert agree == len(texts)


def test_unknown_segmenter_is_a_clear_error():
    with pytest.raises(ValueError, match="segmenter must be one of"):
        Analyzer(segmenter="spacy")
