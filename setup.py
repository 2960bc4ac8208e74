"""The compiled parts of Footnote, plain C and CPython's API: the BM25 query kernel (index/_bm25kernel.c) and the
build's per-term loops (index/_termbag.c).

Everything else is in pyproject.toml. The extensions are optional: without a C compiler the install goes on and
index/bm25.py scores with numpy instead, index/tokenize.py and index/analysis.py run their loops in Python (same
results, slower; `footnote doctor` and `footnote bench` say which for the kernel).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "index._bm25kernel",
            ["index/_bm25kernel.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
        Extension(
            "index._termbag",
            ["index/_termbag.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
    ]
)
