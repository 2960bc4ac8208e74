"""The `footnote` command line, run as a real subprocess (the way a user runs it)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT, SEEDS


def footnote(env, *args, check=False):
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=check
    )


def test_ask_json_contract(env):
    out = footnote(env, "ask", "OpenAI 为什么要暂停 Sora?", "--json", "--k", "3", check=True)
    payload = json.loads(out.stdout)
    assert set(payload) >= {"query", "abstained", "results"}
    assert payload["abstained"] is False and 1 <= len(payload["results"]) <= 3
    for rank, result in enumerate(payload["results"], 1):
        assert set(result) >= {"rank", "doc_id", "title", "source", "date", "passage", "text", "excerpt", "score"}
        assert result["rank"] == rank
        assert (SEEDS / f"{result['doc_id']}.txt").read_text(encoding="utf-8").count(result["text"]) >= 1
    assert "Sora" in payload["results"][0]["text"]
    scores = [r["score"] for r in payload["results"]]
    assert scores == sorted(scores, reverse=True)


def test_ask_abstains_in_json_and_text(env):
    question = "Who won the Nobel Prize in Physics in 2024?"
    payload = json.loads(footnote(env, "ask", question, "--json", check=True).stdout)
    assert payload["abstained"] is True and payload["results"] == [] and payload["suggestions"]
    text = footnote(env, "ask", question, check=True).stdout
    assert "does not cover" in text


def test_ask_text_output_has_numbered_cited_excerpts(env):
    out = footnote(env, "ask", "GPT-5.2 的错误率降低了多少", check=True).stdout
    assert out.startswith("[1] ") and "38%" in out and "¶ " in out


@pytest.mark.parametrize("question", ["", "   ", "😀😀😀", "@everyone"])
def test_bad_questions_exit_2_with_one_clear_line(env, question):
    out = footnote(env, "ask", question)
    assert out.returncode == 2
    assert out.stderr.startswith("footnote: ") and "Traceback" not in out.stderr


def test_huge_question_is_refused_clearly(env):
    out = footnote(env, "ask", "x" * 10_000)
    assert out.returncode == 2 and "characters long" in out.stderr and "Traceback" not in out.stderr


def test_missing_corpus_folder_names_the_path(env, tmp_path):
    out = footnote(env, "--corpus", str(tmp_path / "absent"), "ask", "hello")
    assert out.returncode == 2 and str(tmp_path / "absent") in out.stderr and "Traceback" not in out.stderr


def test_corpus_lists_fields_and_origins(env):
    payload = json.loads(footnote(env, "corpus", "--json", check=True).stdout)
    assert len(payload["documents"]) == 5
    assert all(doc["origins"]["title"] == "catalog" for doc in payload["documents"])
    text = footnote(env, "corpus", check=True).stdout
    assert "(catalog)" in text and "5 documents" in text


def test_corpus_aliases_shows_the_romanised_names_the_index_pairs(env, tmp_path):
    (tmp_path / "en.txt").write_text("T\n\nAnalyst Chang Wei-ming expects a rebound.\n", encoding="utf-8")
    (tmp_path / "zh.txt").write_text("标题\n\n分析师张伟明预计反弹。\n\n张伟明还说，需求在恢复。\n", encoding="utf-8")
    rows = json.loads(footnote(env, "--corpus", str(tmp_path), "corpus", "--aliases", "--json", check=True).stdout)
    assert {"source": "romanised", "name": "Chang Wei Ming", "forms": ["张伟明"]} in rows
    assert any(row["source"] == "pinyin" and row["name"] == "张伟明" for row in rows)
    text = footnote(env, "--corpus", str(tmp_path), "corpus", "--aliases", check=True).stdout
    assert "Chang Wei Ming ↔ 张伟明" in text


def test_eval_prints_the_figures(env):
    out = footnote(env, "eval", str(ROOT / "tests" / "data" / "mini_eval.jsonl"), check=True).stdout
    assert "hit@1" in out and "abstain acc" in out
    payload = json.loads(footnote(env, "eval", str(ROOT / "tests" / "data" / "mini_eval.jsonl"), "--json").stdout)
    assert payload["overall"]["questions"] == 4
    assert payload["overall"]["hit@3"] == 1.0 and payload["overall"]["abstention_accuracy"] == 1.0


def test_eval_squad_on_a_small_file(env, tmp_path):
    squad = {
        "data": [
            {
                "title": "t",
                "paragraphs": [
                    {
                        "context": "北京是中华人民共和国的首都。",
                        "qas": [{"question": "哪座城市是中华人民共和国的首都", "id": "1"}],
                    },
                    {"context": "长江是中国最长的河流。", "qas": [{"question": "中国最长的河流", "id": "2"}]},
                    {"context": "熊猫生活在四川的山区。", "qas": [{"question": "熊猫生活在哪里", "id": "3"}]},
                ],
            }
        ]
    }
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    payload = json.loads(footnote(env, "eval", "--squad", str(path), "--json", check=True).stdout)
    assert payload["questions"] == 3 and payload["hit@1"] == 1.0 and payload["queries_per_second"] > 0


def test_eval_exits_1_below_a_floor_and_says_which(env):
    mini = str(ROOT / "tests" / "data" / "mini_eval.jsonl")
    held = footnote(env, "eval", mini, "--min-hit3", "0.9", "--max-false-abstain", "0.02", "--max-false-answer", "0")
    assert held.returncode == 0 and "below the floor" not in held.stderr
    below = footnote(env, "eval", mini, "--min-hit3", "1.01")
    assert below.returncode == 1 and "below the floor: hit@3 1.000 < 1.010" in below.stderr
    assert "hit@1" in below.stdout and "Traceback" not in below.stderr


def test_eval_abstention_needs_a_squad_file(env):
    out = footnote(env, "eval", str(ROOT / "tests" / "data" / "mini_eval.jsonl"), "--abstention")
    assert out.returncode != 0 and "add --squad" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("token", "expected"),
    [("", "DISCORD_TOKEN is not set"), ("not-a-token", "does not look like a bot token")],
)
def test_run_without_a_usable_token_says_how_to_get_one(env, token, expected, tmp_path):
    environment = {**env, "DISCORD_TOKEN": token}
    out = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "run"], env=environment, cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 2
    assert expected in out.stderr and "discord.com/developers" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    if token:
        assert token not in out.stderr


def test_chat_with_piped_input_prints_each_answer_and_resolves_follow_ups(env, tmp_path):
    environment = {**env, "DATABASE_PATH": str(tmp_path / "chat.sqlite3")}
    out = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "chat"],
        input="OpenAI 的估值是多少\n那谷歌呢？\nmore\n\n😀\n",
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    blocks = out.stdout.split("? ")[1:]
    assert [b.splitlines()[0] for b in blocks] == ["OpenAI 的估值是多少", "那谷歌呢？", "more", "😀"]
    assert "[1] " in blocks[0] and "(Understood as: 谷歌 的估值是多少)" in blocks[1]
    assert "more results for" in blocks[2]
    assert "footnote: I found no words" in blocks[3] and "Traceback" not in out.stderr


def test_eval_quotes_and_timeline_with_floors(env):
    blind = ROOT / "tests" / "data" / "blind"
    out = footnote(
        env, "--corpus", str(blind), "eval", "--quotes", str(blind / "quotes.jsonl"), "--json",
        "--min", "precision=0.85", "--min", "recall=0.85", "--max", "wrong_speaker=0",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["annotated"] == 25 and payload["wrong_speaker"] == 0
    out = footnote(
        env, "--corpus", str(blind), "eval", "--timeline", str(blind / "timeline.jsonl"),
        "--min", "relative_recall=1.01",
    )  # fmt: skip
    assert out.returncode == 1 and "below the floor: relative_recall = 1.0 is below 1.01" in out.stderr
    assert "events found: 26/26" in out.stdout
    out = footnote(env, "--corpus", str(blind), "eval", "--timeline", str(blind / "timeline.jsonl"), "--min", "nope=1")
    assert out.returncode == 2 and "no figure called 'nope'" in out.stderr


def test_a_folder_of_pdfs_and_pages_answers_with_page_citations_and_names_what_it_skipped(env, tmp_path):
    from ..format_files import html_page, write_pdf

    corpus = tmp_path / "docs"
    corpus.mkdir()
    write_pdf(corpus / "harbour.pdf")
    (corpus / "tram.html").write_text(html_page(), encoding="utf-8")
    write_pdf(corpus / "locked.pdf", password="pw")
    out = footnote(env, "--corpus", str(corpus), "ask", "When does dredging of the eastern channel start?", "--json")
    assert out.returncode == 0, out.stderr
    top = json.loads(out.stdout)["results"][0]
    assert (top["doc_id"], top["location"], top["page"], top["paragraph"]) == ("harbour", "p. 2", "2", 5)
    assert top["citations"][0]["location"] == "p. 2"
    assert "locked.pdf: the PDF is encrypted" in out.stderr
    listing = json.loads(footnote(env, "--corpus", str(corpus), "corpus", "--json", check=True).stdout)
    formats = {doc["doc_id"]: (doc["format"], len(doc["divisions"])) for doc in listing["documents"]}
    assert formats == {"harbour": ("pdf", 3), "tram": ("html", 0)}
    assert [Path(path).name for path, _why in listing["skipped"]] == ["locked.pdf"]
    text = footnote(env, "--corpus", str(corpus), "ask", "How many passengers did the tram carry?", check=True).stdout
    assert "— Tram line doubles its forecast — City Daily, 2025-11-03, ¶ 2" in text
