"""PDF to text, page by page."""

from __future__ import annotations

import io

from qa.errors import BadInput


def pdf_text(data: bytes) -> str:
    """Text of a PDF's pages, pages separated by blank lines."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise BadInput("unreadable_pdf", f"could not read the PDF: {exc}") from None
    return "\n\n".join(p.strip() for p in pages if p.strip())
