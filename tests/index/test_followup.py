import pytest

from index.followup import resolve


def _resolve(engine, question, previous):
    return resolve(question, previous, engine.glossary, engine.analyzer)


@pytest.mark.parametrize("question", ["more", "More!", "next", "更多", "继续", "還有嗎？"])
def test_more_continues_the_previous_query(engine, question):
    resolution = _resolve(engine, question, "Sora 留存率")
    assert (resolution.kind, resolution.query) == ("more", "Sora 留存率")


def test_more_without_a_previous_turn_has_nothing_to_continue(engine):
    assert _resolve(engine, "more", None) == type(_resolve(engine, "more", None))("more", "")


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        ("那谷歌呢？", "OpenAI 的估值是多少", "谷歌 的估值是多少"),
        ("what about Google?", "How many users does OpenAI have?", "How many users does google have?"),
        ("And Anthropic?", "OpenAI revenue", "anthropic revenue"),
        ("那 Gemini 3 呢", "GPT-5.2 的错误率", "gemini 3 的错误率"),
    ],
)
def test_what_about_x_swaps_the_subject(engine, question, previous, expected):
    resolution = _resolve(engine, question, previous)
    assert resolution.kind == "swap" and resolution.query == expected
    assert resolution.understood == expected


@pytest.mark.parametrize(
    ("question", "previous", "subject"),
    [
        ("他后来怎么说", "Mark Chen 怎么看红色警报", "Mark Chen 红色警报"),
        ("What did she say about it?", "Who is Sarah Friar?", "Sarah Friar"),
        ("why?", "Why did OpenAI pause Sora?", "OpenAI Sora"),
        ("为什么", "OpenAI 暂停 Sora", "OpenAI Sora"),
    ],
)
def test_pronouns_and_bare_questions_carry_the_previous_subject(engine, question, previous, subject):
    resolution = _resolve(engine, question, previous)
    assert resolution.kind == "followup" and resolution.query == question
    assert resolution.context == subject and subject in resolution.understood


@pytest.mark.parametrize(
    ("question", "previous"),
    [
        ("OpenAI 为什么要暂停 Sora 呢", "Gemini 3"),
        ("What is the capital of France?", "谷歌的估值是多少"),
        ("What did analysts say about Gemini 3?", "Sora"),
        ("其他公司的估值是多少", "OpenAI"),  # 其他 is "other", not the pronoun 他
    ],
)
def test_self_contained_questions_are_not_rewritten(engine, question, previous):
    resolution = _resolve(engine, question, previous)
    assert resolution.kind == "new" and resolution.query == question and not resolution.rewritten


def test_context_terms_steer_a_follow_up_answer(engine):
    bare = engine.ask("后来怎么说", k=3)
    steered = engine.ask("后来怎么说", k=3, context="Mark Chen")
    assert not steered.abstained
    assert "Mark Chen" in steered.results[0].passage.text
    assert bare.abstained or "Mark Chen" not in bare.results[0].passage.text
