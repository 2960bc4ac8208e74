"""Answer quality when the same articles arrive as PDF, HTML or .docx instead of text (not a test; run by hand).

Each article of a folder of UTF-8 .txt files (line 1 headline, then paragraphs) is written as a PDF (reportlab),
an HTML page with navigation and footer, and a .docx (python-docx); each set is a corpus, and the question set is
evaluated on each with `index.evaluate.evaluate_questions`, beside the text originals. Also checked on every
answer: each excerpt is a substring of its document's extracted text. Usage:

    python scripts/formats_eval.py ../shared/eval/foreign_dev/corpus ../shared/eval/foreign_dev/ask.jsonl
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path


def main(folder: str, questions: str) -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import docx
    from measure_extractors import make_html, make_pdf

    from index.corpus import extract
    from index.engine import Engine
    from index.evaluate import evaluate_questions

    work = Path(tempfile.mkdtemp(prefix="footnote-formats-eval-"))
    corpora = {kind: work / kind for kind in ("txt", "pdf", "html", "docx")}
    for path in corpora.values():
        path.mkdir()
    for source in sorted(Path(folder).glob("*.txt")):
        lines = [line.strip() for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
        title, paragraphs = lines[0], lines[2:]
        shutil.copy(source, corpora["txt"] / source.name)
        (corpora["pdf"] / f"{source.stem}.pdf").write_bytes(make_pdf(title, paragraphs))
        (corpora["html"] / f"{source.stem}.html").write_text(make_html(title, paragraphs), encoding="utf-8")
        document = docx.Document()
        document.add_heading(title, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
        document.save(str(corpora["docx"] / f"{source.stem}.docx"))
    print(f"corpora in {work}")
    for kind, corpus in corpora.items():
        engine = Engine.open(corpus, work / f"data-{kind}")
        report = evaluate_questions(engine, Path(questions), repeats=1)
        texts = {path.stem: extract(path).text for path in corpus.iterdir()}
        outside = 0
        for line in Path(questions).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            answer = engine.ask(json.loads(line)["q"], k=10)
            for result in answer.results:
                document = texts[result.citation.doc_id]
                pieces = [result.passage.text, *result.excerpt.plain.split("…")]
                outside += sum(1 for piece in pieces if piece not in document)
        overall = report["overall"]
        print(
            f"{kind:5} hit@1 {overall['hit@1']}  hit@3 {overall['hit@3']}  mrr@10 {overall['mrr@10']}  "
            f"abstention accuracy {overall['abstention_accuracy']}  excerpts not in their text: {outside}"
        )
    shutil.rmtree(work)


if __name__ == "__main__":
    main(
        *(
            sys.argv[1:3]
            if len(sys.argv) > 2
            else ("../shared/eval/foreign_dev/corpus", "../shared/eval/foreign_dev/ask.jsonl")
        )
    )
