"""The one compiled part of Footnote: the BM25 query kernel (index/_bm25kernel.c, plain C and CPython's API).

Everything else is in pyproject.toml. The extension is optional: without a C compiler the install goes on and
index/bm25.py scores with numpy instead (same results, slower; `footnote doctor` and `footnote bench` say which).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "index._bm25kernel",
            ["index/_bm25kernel.c"],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ]
)
