"""HTML: the page's main text with trafilatura, without navigation, sidebars, cookie banners and footers.

Why trafilatura: on the measured pages (scripts/measure_extractors.py, docs/formats.md) it and readability-lxml
keep every sentence of the article and none of the boilerplate, jusText loses half the article; trafilatura
also reads the page's title, date (htmldate), site name and canonical URL, which become catalog fields, and it
is the best-kept of the three. Paragraphs, headings, list items and table rows are lines of their own.

Scripts, styles and inline data (base64 images of a saved page) are removed before parsing; a page whose markup is
still larger than `MAX_HTML_TEXT_BYTES` is refused (a 50 MB page is an archive or a dump, not an article).
"""

from __future__ import annotations

import functools
import logging
import re

from index.errors import CorpusError
from index.formats import MAX_HTML_TEXT_BYTES, MB, Extracted, missing_extra
from index.formats.text import squeeze

_HEAVY_RE = re.compile(
    rb"<(script|style|svg|noscript|template)\b.*?</\1\s*>|data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+", re.I | re.S
)
_MARKER_RE = re.compile(r"^(?:[-*•]\s+|\|\s*)")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@functools.cache
def _config() -> object:
    """trafilatura's settings with its minimum sizes lowered: with the defaults, the article of a short page is
    "too small", and trafilatura falls back to a baseline extraction that keeps the navigation."""
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "10")
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
    return config


def _line(line: str) -> str:
    line = _MARKER_RE.sub("", line.strip())
    if line.endswith("|"):  # a table row as trafilatura writes it: "| a | b |"
        line = line.rstrip("| ").strip()
    return squeeze(line)


def read_html(name: str, data: bytes) -> Extracted:
    try:
        import trafilatura
        from trafilatura.xml import xmltotxt
    except ImportError:
        raise missing_extra(name, "html", "trafilatura") from None
    markup = _HEAVY_RE.sub(b"", data)
    if len(markup) > MAX_HTML_TEXT_BYTES:
        raise CorpusError(
            f"{name}: {len(markup) / MB:.0f} MB of HTML (without scripts, styles and images) is more than the "
            f"{MAX_HTML_TEXT_BYTES // MB} MB Footnote reads from a web page; save the article alone, or as text"
        )
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)
    try:
        result = trafilatura.bare_extraction(
            markup,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            date_extraction_params={"extensive_search": True, "original_date": True},
            config=_config(),
        )
    except (ValueError, TypeError, RecursionError) as exc:  # lxml's errors are ValueError subclasses
        raise CorpusError(f"{name}: not a readable HTML page ({exc})") from None
    if result is None or result.body is None:
        raise CorpusError(f"{name}: no article text found in this HTML page")
    lines = [_line(line) for line in xmltotxt(result.body, False).splitlines()]
    text = "\n".join(line for line in lines if line)
    fields: dict[str, str] = {}
    if result.title:
        fields["title"] = squeeze(result.title)
    if result.date and _ISO_DATE_RE.match(result.date):
        fields["date"] = result.date[:10]
    if result.sitename:
        fields["source"] = squeeze(result.sitename)
    if result.url and result.url.startswith(("http://", "https://")):
        fields["url"] = result.url
    return Extracted(text + "\n" if text else "", "html", fields)
