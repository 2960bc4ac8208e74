"""Help-channel rules over text (index/helpdesk.py): what reads as a question in each language, what a post asks,
when an answer is sure enough to post on its own, which forum tag means solved. The sentences are made up for
these tests, about topics the seeds do not cover."""

from __future__ import annotations

import pytest

from index.helpdesk import has_words, is_solved_tag, post_question, reads_as_question, sure_enough


@pytest.mark.parametrize(
    "text",
    [
        # a question mark, half- or full-width, even with emoji or a closing quote after it
        "the ferry timetable changed?",
        "渡轮时刻表改了？",
        "anyone? 🙏",
        "Is this the right place to ask about tram fares?",
        # English: a wh-word, or an auxiliary with its subject
        "how do I renew my library card",
        "What's the deadline for the grant",
        "Does anyone know when the pool reopens",
        "Can the museum stay open late",
        "Is Harbour Line running tonight",
        "Did they publish the minutes",
        "Do you know the price of a season ticket",
        "Has the council voted yet",
        # Chinese and Cantonese: an opening interrogative, one in place, a final particle
        "为什么图书馆周一不开门",
        "為什麼圖書館週一不開門",
        "图书馆几点开门",
        "市议会什么时候投票",
        "這個月的電費是多少",
        "请问渡轮还开吗",
        "图书馆周一开门吗",
        "點解條橋仲未開",
        "邊個負責條橋",
        "係咪聽日先開",
        "渡輪幾時開",
        "你哋有冇時間表",
    ],
)
def test_questions_in_three_languages(text):
    assert reads_as_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "thanks, that helped!",
        "Will do.",
        "Can confirm, same here",
        "Have a nice weekend",
        "Do the dishes first",
        "Had a great time at the fair",
        "the pool reopens on Monday",
        "lol",
        "🙂🙂",
        "https://example.org/timetable?week=3",
        "<:party:123456789012345678>",
        "谢谢大家",
        "我不知道为什么",  # an embedded question is a statement
        "什么都可以",  # an indefinite, not a question
        "几乎全部完成了",  # 几乎 "almost"
        "无论如何都要去",
        "好嘢，多謝晒",
    ],
)
def test_chat_and_statements_are_not_questions(text):
    assert not reads_as_question(text)


def test_a_post_is_its_title_and_its_message_read_once():
    both = post_question("Tram fares", "How much is a monthly tram pass for students?", 1000)
    assert both.text == "Tram fares — How much is a monthly tram pass for students?" and not both.truncated
    repeated = post_question("Monthly tram pass price?", "Monthly tram pass price? I could not find it.", 1000)
    assert repeated.text == "Monthly tram pass price? I could not find it."
    longer_title = post_question("How much is a monthly tram pass for students?", "monthly tram pass", 1000)
    assert longer_title.text == "How much is a monthly tram pass for students?"
    assert post_question("", "图书馆几点开门？", 1000).text == "图书馆几点开门？"
    assert post_question("Library hours", "", 1000).text == "Library hours"
    assert post_question("🙂", "<:wave:123456789012345678>", 1000).text == ""


def test_a_long_post_is_read_by_its_questions_or_cut_at_a_sentence():
    story = "I tried the website and the phone line, and my neighbour told me something else entirely. " * 40
    body = story + "How late is the library open on Sundays? " + story + "Is there a holiday timetable? Thanks!"
    asked = post_question("Library hours", body, 1000)
    assert asked.truncated
    assert asked.text == "Library hours — How late is the library open on Sundays? Is there a holiday timetable?"
    chinese = post_question("", "我查过网站也打过电话，邻居又说了别的。" * 30 + "图书馆周日开到几点？谢谢。", 1000)
    assert chinese.text == "图书馆周日开到几点？" and chinese.truncated
    no_question_mark = post_question("Library hours", "I tried the website and the phone line. " * 100, 1000)
    assert no_question_mark.truncated and len(no_question_mark.text) <= 1000
    assert no_question_mark.text.startswith("Library hours — I tried") and no_question_mark.text.endswith(".")
    short = post_question("Library hours", "Open on Sundays? I tried the website.", 1000)
    assert short.text == "Library hours — Open on Sundays? I tried the website." and not short.truncated


def test_has_words():
    assert has_words("a") and has_words("港") and not has_words("🙂 123 !!") and not has_words("")


@pytest.mark.parametrize(
    ("abstained", "confidence", "minimum", "expected"),
    [
        (False, "high", "high", True),
        (False, "low", "high", False),
        (False, "low", "low", True),
        (False, "high", "low", True),
        (True, "none", "low", False),
        (True, "none", "high", False),
    ],
)
def test_sure_enough(abstained, confidence, minimum, expected):
    assert sure_enough(abstained, confidence, minimum) is expected


def test_solved_tags_by_name_in_any_script_or_by_a_check_mark():
    assert is_solved_tag("Solved") and is_solved_tag("✅ RESOLVED") and is_solved_tag("answered!")
    assert is_solved_tag("已解決") and is_solved_tag("已解决") and is_solved_tag("Done", None)
    assert is_solved_tag("Fix shipped", "✅")
    assert not is_solved_tag("Bug") and not is_solved_tag("Unsolved") and not is_solved_tag("Question", "❓")
