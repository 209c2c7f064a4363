"""Bytes to text, and the checks any text must pass before it is stored or searched."""

from __future__ import annotations

import codecs
import re

from qa.errors import BadInput

_DECLARED_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def decode(data: bytes, html: bool = False) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or the charset an HTML page declares in a
    ``<meta>`` tag of its first 4 kB; anything else is refused, not guessed."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
        declared = _DECLARED_CHARSET.search(data[:4096]) if html else None
        if declared:
            encoding = _html_encoding(declared.group(1).decode("ascii"))
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise BadInput("undecodable", f"text is not valid {encoding.upper().removesuffix('-SIG')} "
                                      f"(byte {exc.start}): save the file as UTF-8 and try again") from None
    return check_text(text, "text")


def _html_encoding(label: str) -> str:
    """The codec for a page's declared charset, read as browsers do (WHATWG Encoding): Latin-1 and
    ASCII labels mean Windows-1252, a UTF-16/32 label on a page without a byte-order mark means
    UTF-8, and an unknown label or a codec that is not a text encoding ("hex") means UTF-8."""
    try:
        info = codecs.lookup(label)
    except LookupError:
        return "utf-8-sig"
    if not getattr(info, "_is_text_encoding", True) or info.name.startswith(("utf-16", "utf-32", "utf-8")):
        return "utf-8-sig"
    return {"iso8859-1": "cp1252", "ascii": "cp1252"}.get(info.name, info.name)


def check_text(text: str, what: str) -> str:
    """Refuse text that cannot be stored and searched intact: NUL characters (SQLite's text
    functions stop at them) and unpaired surrogates (not Unicode at all; JSON can carry them)."""
    if "\x00" in text:
        raise BadInput("undecodable", f"{what} contains NUL characters; is this a binary file?")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadInput("undecodable", f"{what} is not valid Unicode (an unpaired surrogate at {exc.start})") from None
    return text
