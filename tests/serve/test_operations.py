"""Running it as a service: the OpenAPI document, the docs page, metrics and logs (real HTTP)."""

import json
import logging
import re

import httpx
import pytest
from openapi_spec_validator import validate

from helpers import serving
from qa.serve.web import create_app


@pytest.fixture
def served(make_service, test_encoder):
    service = make_service(encoder=test_encoder)
    service.sync()
    with serving(service) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield service, client


def test_the_openapi_document_is_valid_and_covers_every_route(served):
    service, client = served
    spec = client.get("/api/openapi.json").json()
    validate(spec)
    app = create_app(service)
    registered = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
                  for rule in app.url_map.iter_rules() if rule.endpoint != "static"
                  for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, operations in spec["paths"].items() for method in operations}
    assert registered - documented == set(), "routes missing from the document"
    ask = spec["paths"]["/api/ask"]["post"]
    assert {"200", "400", "415"} <= set(ask["responses"])
    body = ask["requestBody"]["content"]["application/json"]["schema"]
    assert "question" in json.dumps(spec["components"]["schemas"]) and body["$ref"].startswith("#/components")
    assert {"401", "403", "409"} <= set(spec["paths"]["/api/articles"]["post"]["responses"])


def test_metrics_count_asks_writes_and_errors(served):
    _, client = served
    for question in ("What air defense system did Turkey buy?", "Who is the president of Turkey?"):
        assert client.get("/api/ask", params={"q": question}).status_code == 200
    assert client.post("/api/ask", json={"question": ""}).status_code == 400
    assert client.post("/api/articles", json={"title": "Tram", "text": "The tram opens in May. It crosses the river."}
                       ).status_code == 201
    text = client.get("/metrics").text
    assert 'qa_http_requests_total{method="GET",route="/api/ask",status="200"} 2.0' in text
    assert 'qa_http_requests_total{method="POST",route="/api/ask",status="400"} 1.0' in text
    assert 'qa_errors_total{code="missing_question"} 1.0' in text
    assert 'qa_writes_total{status="added"} 1.0' in text
    assert re.search(r'qa_index_size\{kind="articles"\} 2\.0', text)
    assert re.search(r'qa_http_request_seconds_count\{route="/api/ask"\} 3\.0', text)


def test_a_line_per_request_and_per_write(served, caplog):
    _, client = served
    with caplog.at_level(logging.INFO, logger="qa"):
        client.post("/api/articles", json={"id": "tram", "title": "Tram", "text": "The tram opens in May. It runs."})
        client.get("/api/ask", params={"q": "When does the tram open?"})
    lines = [r.getMessage() for r in caplog.records]
    assert any(re.fullmatch(r"added article tram \(1 passages\) in \d+ ms", line) for line in lines), lines
    assert any(re.fullmatch(r"POST /api/articles 201 \d+\.\d ms", line) for line in lines), lines
    assert any(re.fullmatch(r"GET /api/ask\?q=When\+does\+the\+tram\+open%3F 200 \d+\.\d ms", line) for line in lines)
    write = next(r for r in caplog.records if r.getMessage().startswith("added article"))
    assert (write.article, write.outcome, write.passages) == ("tram", "added", 1)


def test_json_log_lines(capsys):
    from qa.serve import logs

    root, ours = logging.getLogger(), logging.getLogger("qa")
    saved = (root.handlers[:], root.level, ours.level)
    logs.configure("INFO", "json")
    try:
        logging.getLogger("qa.web").info("GET / 200 1.0 ms", extra={"method": "GET", "status": 200, "ms": 1.0})
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
        assert (line["message"], line["level"], line["method"], line["status"]) == ("GET / 200 1.0 ms", "INFO", "GET", 200)
    finally:
        root.handlers[:], _, _ = saved
        root.setLevel(saved[1])
        ours.setLevel(saved[2])
