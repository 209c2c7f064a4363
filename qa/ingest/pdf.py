"""PDF to text, page by page."""

from __future__ import annotations

import io


def pdf_text(data: bytes) -> str:
    """Text of a PDF's pages, pages separated by blank lines (AES-encrypted ones too, when they open
    with an empty password; pypdf's failures become ``unreadable_pdf`` in :mod:`qa.ingest.reader`)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    pages = [page.extract_text() or "" for page in reader.pages]
    return "\n\n".join(p.strip() for p in pages if p.strip())
