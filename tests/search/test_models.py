"""The small learned models: fitting, calibration error, and the file the product ships."""

import numpy as np

from qa.evaluation.calibration import choose_threshold
from qa.search import models, reader


def test_logistic_fit_recovers_the_direction_of_the_signal():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2))
    y = (rng.random(4000) < 1 / (1 + np.exp(-(3 * x[:, 0] - 0.5)))).astype(float)
    fitted = models.fit(("signal", "noise"), x, y)
    assert fitted.weights[0] > 2.0 and abs(fitted.weights[1]) < 0.2
    p = fitted.probability(x)
    assert models.expected_calibration_error(p, y) < 0.03


def test_expected_calibration_error_by_hand():
    confidences = np.array([0.95, 0.95, 0.05, 0.05, 0.55])
    labels = np.array([1, 1, 0, 0, 0])
    # bins: 0.9-1.0 (2 samples, accuracy 1, gap 0.05), 0.0-0.1 (2, accuracy 0, gap 0.05), 0.5-0.6 (1, gap 0.55)
    assert abs(models.expected_calibration_error(confidences, labels) - (0.4 * 0.05 + 0.4 * 0.05 + 0.2 * 0.55)) < 1e-9


def test_the_threshold_withholds_answers_from_most_unanswerable_questions():
    top = ([(0.9, True, "a: answerable")] * 8 + [(0.3, False, "a: answerable")] * 2
           + [(0.1, False, "a: unanswerable")] * 8 + [(0.5, False, "a: unanswerable")] * 2)
    threshold, report = choose_threshold(top)
    assert 0.1 < threshold <= 0.3 and report["abstained"] == 0.8 and report["answered"] == 1.0


def test_the_shipped_models_read_the_features_the_code_computes():
    shipped = models.load()
    assert shipped.answer.features == reader.FEATURES and shipped.confidence.features == models.PASSAGE_FEATURES
    assert 0 < shipped.min_confidence < 1 and shipped.fitted_on
    assert not any("test" in name for name in shipped.fitted_on), "never fitted on a split we report"
