"""The two small learned models of the ranking, and how they are fitted and checked.

* the **answer model** (the reader, :mod:`qa.search.reader`): the probability that a sentence of a
  passage holds the answer, from that sentence's signals;
* the **confidence model**: the probability that a ranked passage holds the answer, from the
  ranking's own signals for it (:data:`PASSAGE_FEATURES`). A raw score (1.085, 0.259) means nothing
  to a reader and its scale moves with the question; a calibrated probability does not.

Both are logistic regressions over standardized features, fitted by ``run.py calibrate`` on
labelled data that is never the data we report (docs/evaluation.md), and shipped in
``models.json`` beside this module with the threshold below which no answer is given.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from qa.search import reader

PASSAGE_FEATURES = ("score", "fused", "dense", "sentence", "answer", "coverage", "answer_coverage", "margin", "gap",
                    "rank")
MODEL_FILE = Path(__file__).with_name("models.json")


@dataclass(frozen=True)
class Logistic:
    """A logistic regression over standardized, named features."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Made once: converting the tuples on every call cost more than the arithmetic.
        return np.asarray(self.mean), np.asarray(self.scale), np.asarray(self.weights)

    def logit(self, rows: np.ndarray) -> np.ndarray:
        mean, scale, weights = self._arrays
        return (np.atleast_2d(rows) - mean) / scale @ weights + self.bias

    def probability(self, rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(rows), -30, 30)))

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "weights": list(self.weights), "bias": self.bias}

    @classmethod
    def from_json(cls, data: dict, features: tuple[str, ...]) -> "Logistic":
        if tuple(data["features"]) != features:
            raise ValueError(f"the model was fitted on other features: {data['features']}")
        return cls(features, tuple(data["mean"]), tuple(data["scale"]), tuple(data["weights"]), float(data["bias"]))


@dataclass(frozen=True)
class Models:
    answer: Logistic
    confidence: Logistic
    min_confidence: float  # below it, no answer is given (chosen by measurement)
    fitted_on: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"answer": self.answer.to_json(), "confidence": self.confidence.to_json(),
                "min_confidence": self.min_confidence, "fitted_on": list(self.fitted_on)}

    @classmethod
    def from_json(cls, data: dict) -> "Models":
        return cls(Logistic.from_json(data["answer"], reader.FEATURES),
                   Logistic.from_json(data["confidence"], PASSAGE_FEATURES),
                   float(data["min_confidence"]), tuple(data.get("fitted_on", ())))


@lru_cache(maxsize=4)
def load(path: Path = MODEL_FILE) -> Models:
    return Models.from_json(json.loads(Path(path).read_text()))


def fit(features: tuple[str, ...], rows: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray | None = None,
        l2: float = 1.0) -> Logistic:
    """Logistic regression by Newton's method (IRLS) with an L2 penalty on the weights."""
    x = np.asarray(rows, np.float64)
    y = np.asarray(labels, np.float64)
    w_sample = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    w_sample = w_sample * len(y) / w_sample.sum()
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -30, 30)))
        gradient = z.T @ (w_sample * (p - y)) + penalty * beta
        hessian = (z * (w_sample * p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return Logistic(tuple(features), tuple(mean), tuple(scale), tuple(beta[:-1]), float(beta[-1]))


def expected_calibration_error(confidences: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """ECE over ``bins`` equal-width bins: the mean gap between confidence and accuracy, weighted by size."""
    confidences, labels = np.asarray(confidences, float), np.asarray(labels, float)
    if not len(confidences):
        return math.nan
    which = np.minimum((confidences * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(confidences[mask].mean() - labels[mask].mean())
    return float(error)
