from pathlib import Path

from index.corpus import load_corpus
from index.duplicates import collapse_duplicates
from index.passages import is_noise, sentence_spans, split_document

from ..conftest import SEEDS


def test_offsets_round_trip_to_the_source_text():
    loaded = load_corpus(SEEDS)
    assert len(loaded.documents) == 5
    for doc in loaded.documents:
        original = Path(doc.info.path).read_text(encoding="utf-8")
        passages = split_document(doc.doc_id, doc.text, doc.body_start)
        assert passages
        for passage in passages:
            assert original[passage.start : passage.end] == passage.text


def test_engine_passages_round_trip_after_dedupe(engine):
    texts = {doc_id: Path(info.path).read_text(encoding="utf-8") for doc_id, info in engine.documents.items()}
    for passage in engine.passages:
        assert texts[passage.doc_id][passage.start : passage.end] == passage.text
        for dup in passage.duplicates:
            assert texts[dup.doc_id][dup.start : dup.end]


def test_noise_lines():
    for line in ["![]()", "▲", "--:--", "微信扫一扫打赏", "https://x.com/a/status/1", "Notice: The content above is"]:
        assert is_noise(line), line
    for line in ["OpenAI 陷入困境", "▲播客地址:https://x.com/Kantrowitz/status/1", "It is 38%."]:
        assert not is_noise(line), line


def test_long_paragraphs_split_at_sentence_ends():
    sentence = "这是一个很长的句子，用来测试切分是否发生在句末。"
    text = sentence * 40
    passages = split_document("d", text, max_chars=100)
    assert len(passages) > 5
    assert all(len(p.text) <= 100 for p in passages)
    assert all(p.text.endswith("。") for p in passages)
    assert {p.paragraph for p in passages} == {1}


def test_english_sentences_do_not_split_on_decimals():
    text = "GPT-5.2 was released. It cut errors by 38%. Next?"
    spans = [text[a:b] for a, b in sentence_spans(text)]
    assert spans == ["GPT-5.2 was released.", "It cut errors by 38%.", "Next?"]


def test_transcript_speaker_labels_attach_to_the_next_passage():
    text = (
        "雷总\n今天我们聊一聊 OpenAI 的红色警报,这是一个很长的段落。\n小撒1\n没错,我是小撒1,这也是一个足够长的段落。\n"
        "雷总\n再来一段很长的内容,讲讲 GPT-5.2。\n小撒1\n最后一段同样足够长,讲讲 Gemini 3。\n"
    )
    passages = split_document("t", text)
    # A label is a short line that recurs before longer ones (here each speaker twice).
    assert [p.label for p in passages] == ["雷总", "小撒1", "雷总", "小撒1"]
    assert all(p.text not in ("雷总", "小撒1") for p in passages)


def test_exact_and_near_duplicates_collapse_with_citations():
    a = "OpenAI 现在并不需要一个更强大的模型,它需要的是 AMD。如果 OpenAI 收购了 AMD,这场 AI 之战就将宣告结束。"
    near = a.replace("。如果", "。 如果").replace("结束", "结束了")
    text1 = f"{a}\n{a}\n完全不同的一段话，讲的是别的事情和别的公司。\n"
    passages = split_document("one", text1) + split_document("two", near + "\n")
    kept = collapse_duplicates(passages)
    assert [p.text for p in kept] == [a, "完全不同的一段话，讲的是别的事情和别的公司。"]
    # The near duplicate is not shown again, and not cited under text it does not contain (issue 14, point 2).
    assert [(d.doc_id, d.paragraph) for d in kept[0].duplicates] == [("one", 2)]
    assert [p.pid for p in kept] == [0, 1]


def test_seed_duplicates_are_collapsed(engine):
    keys = [p.text for p in engine.passages]
    assert len(keys) == len(set(keys))
    amd = [p for p in engine.passages if "如果 OpenAI 收购了 AMD" in p.text]
    assert len(amd) == 1 and amd[0].duplicates
