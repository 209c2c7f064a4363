"""Bytes to text, and the checks any text must pass before it is stored or searched."""

from __future__ import annotations

import codecs
import re

import webencodings

from qa.errors import BadInput

_DECLARED_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def decode(data: bytes, html: bool = False) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or the charset an HTML page declares in a
    ``<meta>`` tag of its first 4 kB; anything else is refused, not guessed."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = codecs.lookup("utf-16")
    else:
        declared = _DECLARED_CHARSET.search(data[:4096]) if html else None
        codec = _html_codec(declared.group(1).decode("ascii")) if declared else codecs.lookup("utf-8-sig")
    try:
        text, _ = codec.decode(data)
    except UnicodeDecodeError as exc:
        raise BadInput("undecodable", f"text is not valid {codec.name.upper().removesuffix('-SIG')} "
                                      f"(byte {exc.start}): save the file as UTF-8 and try again") from None
    return check_text(text, "text")


def _html_codec(label: str) -> codecs.CodecInfo:
    """The codec for a page's declared charset, read as browsers do: only WHATWG Encoding labels
    count (Latin-1 and ASCII mean Windows-1252), and a UTF-16 label on a page without a byte-order
    mark, "replacement", or a label that is no web encoding at all ("punycode", "hex") mean UTF-8."""
    encoding = webencodings.lookup(label)
    if encoding is None or encoding.name in ("utf-16le", "utf-16be", "replacement", "utf-8"):
        return codecs.lookup("utf-8-sig")
    return encoding.codec_info


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
