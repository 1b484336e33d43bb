"""Parsing a long release: plain text and Word, the median of five runs each.

    .venv/bin/python bench/parse_release.py [PAGES]

A page is some 500 words; a 20-page release must parse well under a second.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import docx

from distribution.releases.parse import parse_release, read_release_file

PARAGRAPH = ("Geneva officials said on 3 March 2025 that “the work continues” – and more "
             "will follow, as press@example.org confirmed. ") * 4  # about 80 words


def _median(run: object, times: int = 5) -> float:
    taken = []
    for _ in range(times):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        taken.append(time.perf_counter() - started)
    return statistics.median(taken)


def main(pages: int) -> None:
    count = pages * 500 // 80
    text = ("FOR IMMEDIATE RELEASE\n\nHeadline\n\nGeneva, 3 March 2025 – Text.\n\n"
            + "\n\n".join([PARAGRAPH] * count) + "\n\n###\n\nMedia contact: a@example.org\n")
    document = docx.Document()
    document.add_paragraph("Headline", style="Title")
    for _ in range(count):
        paragraph = document.add_paragraph()
        paragraph.add_run("GENEVA ").bold = True
        paragraph.add_run(PARAGRAPH)
    path = Path(tempfile.mkdtemp()) / "long.docx"
    document.save(path)
    print(f"{pages} pages ({len(text.split())} words)")
    print(f"  text: {_median(lambda: parse_release(text)) * 1000:.0f} ms")
    print(f"  docx: {_median(lambda: read_release_file(path)) * 1000:.0f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
