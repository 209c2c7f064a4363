"""Seconds to read an HTML page of N nested ``<div class="ad">`` wrappers, each with a paragraph (the
probe's upload of issue 16): the furniture check must grow linearly with the page, not with its square.

    python -m benchmarks.deep_html   (from the clone, so that its qa/ is the one read)
"""

from __future__ import annotations

import time

from qa.ingest import from_bytes


def main() -> None:
    from_bytes(b"<p>Warm up. The parser is loaded.</p>", "warm.html")
    for depth in (1000, 2000, 4000):
        page = ("<html><body>" + '<div class="ad"><p>Ad text here.</p>' * depth + "</div>" * depth
                + "</body></html>").encode()
        started = time.perf_counter()
        from_bytes(page, "deep.html")
        print(f"depth {depth:5d} ({len(page) // 1000} KB): {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
