from index.normalize import fold, fold_with_offsets, is_traditional
from index.tokenize import Analyzer


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
