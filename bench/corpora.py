"""The benchmark's corpora: real text first (the seeds, then CMRC 2018 and DRCD articles from ../shared/bench),
then synthetic documents of real sentences with every digit redrawn; and the real questions to time."""

from __future__ import annotations

import json
import logging
import random
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from bench.results import BenchError, CorpusStats

log = logging.getLogger(__name__)


_SYNTHETIC_SEED = 20251209
_SENTENCE_RE = re.compile(r"[^。！？!?；]+[。！？!?；]*[”」』）)]*")


# -- corpora -----------------------------------------------------------------------------------------------


def _squad_articles(path: Path, prefix: str) -> list[tuple[str, list[str], list[str]]]:
    """(name, paragraphs, questions) of each article of a SQuAD-format file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    articles = []
    for index, article in enumerate(data["data"]):
        paragraphs = [p["context"].strip() for p in article["paragraphs"] if p["context"].strip()]
        questions = [qa["question"] for p in article["paragraphs"] for qa in p["qas"]]
        articles.append((f"{prefix}-{index:04d}", paragraphs, questions))
    return articles


def real_sources(bench_dir: Path | None) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Wikipedia articles (name, paragraphs) of the shared CMRC 2018 and DRCD dev sets, interleaved, and their
    questions (interleaved too). Empty when the data is not there."""
    sets = []
    if bench_dir is not None:
        for folder, name, prefix in (("cmrc2018", "cmrc2018_dev.json", "cmrc"), ("drcd", "DRCD_dev.json", "drcd")):
            path = bench_dir / folder / name
            if path.exists():
                sets.append(_squad_articles(path, prefix))
    articles: list[tuple[str, list[str]]] = []
    questions: list[str] = []
    for i in range(max((len(s) for s in sets), default=0)):
        for articles_of_set in sets:
            if i < len(articles_of_set):
                name, paragraphs, asked = articles_of_set[i]
                articles.append((name, paragraphs))
                questions.extend(asked[:3])
    return articles, questions


def seed_questions(eval_file: Path | None) -> list[str]:
    if eval_file is None or not eval_file.exists():
        return []
    return [json.loads(line)["q"] for line in eval_file.read_text(encoding="utf-8").splitlines() if line.strip()]


def make_corpus(
    folder: Path,
    target: int,
    *,
    seeds_dir: Path,
    articles: Sequence[tuple[str, list[str]]],
    seed: int = _SYNTHETIC_SEED,
) -> CorpusStats:
    """Write a corpus of about `target` passages into `folder` (see the module docstring)."""
    from index.corpus import document_files
    from index.passages import split_document

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in ("catalog.toml", "glossary.toml", "userdict.txt"):
        if (seeds_dir / name).exists():
            shutil.copy(seeds_dir / name, folder / name)
    passages = documents = characters = 0

    def add(name: str, text: str) -> None:
        nonlocal passages, documents, characters
        (folder / name).write_text(text, encoding="utf-8")
        passages += len(split_document(name, text))
        documents += 1
        characters += len(text)

    for path in document_files(seeds_dir):
        if passages >= target:
            break
        add(path.name, path.read_text(encoding="utf-8"))
    for name, paragraphs in articles:
        if passages >= target:
            break
        add(f"{name}.txt", "\n".join(paragraphs) + "\n")
    real = passages
    sentences = [s.strip() for _, paragraphs in articles for p in paragraphs for s in _SENTENCE_RE.findall(p)]
    sentences = [s for s in sentences if len(s) >= 8]
    rng = random.Random(seed)
    synthetic = 0
    if passages < target and not sentences:
        raise BenchError(
            f"cannot reach {target:,} passages: the seeds give {passages:,}, and the CMRC 2018 / DRCD articles for "
            "the rest were not found (shared/bench beside the project folder: cmrc2018/cmrc2018_dev.json, "
            "drcd/DRCD_dev.json)"
        )
    while passages < target:
        paragraphs = []
        for _ in range(rng.randint(3, 12)):
            picked = "".join(sentences[rng.randrange(len(sentences))] for _ in range(rng.randint(2, 9)))
            paragraphs.append(re.sub(r"\d", lambda _: str(rng.randrange(10)), picked))
        add(f"mix-{synthetic:06d}.txt", "\n".join(paragraphs) + "\n")
        synthetic += 1
    return CorpusStats(target, passages, documents, real, synthetic, characters)
