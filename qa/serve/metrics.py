"""Prometheus metrics at ``/metrics``: requests, latency, errors, writes, the model's batches and
queue wait, and the index's size. Each app has its own registry, so several apps in one process
(the tests) never share counts; counting costs a few microseconds a request (docs/performance.md).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from qa.service import QAService

_LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 30.0)


class Metrics:
    def __init__(self, service: QAService):
        self.registry = CollectorRegistry()
        self.requests = Counter("qa_http_requests", "HTTP requests answered, by route, method and status",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("qa_http_request_seconds", "Time to answer an HTTP request, by route", ["route"],
                                 buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.errors = Counter("qa_errors", "Error replies, by code", ["code"], registry=self.registry)
        self.writes = Counter("qa_writes", "Article writes, by outcome (added, replaced, unchanged, removed)",
                              ["status"], registry=self.registry)
        self.batch = Histogram("qa_model_batch_size", "Texts per forward pass of the model, by kind", ["kind"],
                               buckets=(1, 2, 4, 8, 16, 32, 64), registry=self.registry)
        self.queue_wait = Histogram("qa_model_queue_wait_seconds", "Time a text waited for the model thread",
                                    ["kind"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(_IndexSize(service))

    def observe_batch(self, kind: str, size: int, waited: float) -> None:
        """Called by the model thread for each forward pass."""
        self.batch.labels(kind).observe(size)
        self.queue_wait.labels(kind).observe(waited)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _IndexSize:
    """Articles, passages and the derived indexes' sizes, read when scraped."""

    def __init__(self, service: QAService):
        self.service = service

    def collect(self):
        stats = self.service.stats()
        gauge = GaugeMetricFamily("qa_index_size", "Items in the index, by kind", labels=["kind"])
        for kind in ("articles", "passages", "vectors", "lexical"):
            gauge.add_metric([kind], stats[kind])
        yield gauge
