"""Texts that are not prose are refused with ``not_prose``; real articles never are."""

import base64
import json
import random

import pytest

from helpers import ROOT
from qa.errors import BadInput
from qa.ingest import article_files, from_bytes, from_fields, read_file

RNG = random.Random(11)
NOT_PROSE = {
    "base64": base64.encodebytes(bytes(RNG.randrange(256) for _ in range(4000))).decode(),
    "hex dump": "\n".join(f"{at:08x}: " + " ".join(f"{RNG.randrange(65536):04x}" for _ in range(8)) + "  ........"
                          for at in range(0, 2000, 16)),
    "minified code": "".join(f"function f{n}(a,b){{var c=a*{n}+b;return c>{n}?f{n + 1}(c,b-1):[c,{n},a&&b]}};"
                             for n in range(60)),
    "number table": "\n".join("\t".join(f"{RNG.uniform(0, 999):.1f}" for _ in range(6)) for _ in range(80)),
    "JSON dump": json.dumps([{"id": n, "score": RNG.random(), "ok": True} for n in range(80)]),
}


@pytest.mark.parametrize("kind", sorted(NOT_PROSE))
def test_what_is_not_prose_is_refused(kind):
    with pytest.raises(BadInput) as caught:
        from_fields(NOT_PROSE[kind], title="A title")
    assert caught.value.code == "not_prose" and "words" in caught.value.message


def test_an_upload_that_is_not_prose_is_refused_too():
    with pytest.raises(BadInput) as caught:
        from_bytes(NOT_PROSE["base64"].encode(), "attachment.txt")
    assert caught.value.code == "not_prose"


def test_real_articles_and_short_texts_are_accepted():
    files = [p for folder in ("corpus", "tests/data") for p in article_files(ROOT / folder)]
    assert len(files) > 300
    for path in files:
        read_file(path)  # raises on a refusal
    from_fields("Shares rose 3.2% to 41.75 on Tuesday; volume was 1,204,000.", title="Markets")
    chinese = "北京时间周二，中国国家统计局发布数据显示，今年前十个月全国规模以上工业增加值同比增长。" * 6
    assert from_fields(chinese, title="工业").text
