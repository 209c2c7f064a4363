"""The calibrated confidence and the null answer, measured on a held-out split the models were not
fitted on (tests/data/encyclopedia/test; they were fitted on the dev splits, tests/data/calibration.json)."""

import numpy as np
import pytest

from helpers import ROOT
from qa.evaluation.loaders import load_question_folder, load_unanswerable
from qa.evaluation.scoring import index_documents, normalize

HELD_OUT = ROOT / "tests" / "data" / "encyclopedia" / "test"


@pytest.fixture(scope="module")
def held_out(tmp_path_factory, embedder):
    from qa.config import Settings
    from qa.service import QAService

    root = tmp_path_factory.mktemp("held-out")
    service = QAService(Settings(corpus_dir=root / "corpus", index_dir=root / "index"), encoder=embedder)
    data = load_question_folder(HELD_OUT)
    index_documents(service, data.documents)
    yield service, data
    service.close()


def test_confidence_is_calibrated_on_a_held_out_split(held_out):
    service, data = held_out
    confidences, holds = [], []
    for q in data.questions:
        for r in service.ask(q.text, 5)["results"]:
            confidences.append(r["confidence"])
            holds.append(any(normalize(e) in normalize(r["text"]) for e in q.evidence))
    confidences, holds = np.array(confidences), np.array(holds, float)
    assert ((0 <= confidences) & (confidences <= 1)).all()
    bins = np.minimum((confidences * 10).astype(int), 9)
    ece = sum((bins == b).mean() * abs(confidences[bins == b].mean() - holds[bins == b].mean())
              for b in range(10) if (bins == b).any())
    assert ece <= 0.10, f"expected calibration error {ece:.3f}"
    assert confidences[holds == 1].mean() > confidences[holds == 0].mean() + 0.4


def test_answers_are_given_to_its_questions_and_withheld_from_others(held_out):
    service, data = held_out
    answered = [service.ask(q.text, 5)["answer"] for q in data.questions]
    assert np.mean([a is not None for a in answered]) >= 0.9
    right = [a is not None and any(normalize(g) in normalize(a["text"]) for g in q.gold)
             for q, a in zip(data.questions, answered)]
    assert np.mean(right) >= 0.8
    others = load_unanswerable(ROOT / "tests" / "data" / "news" / "test")  # other articles' questions
    withheld = [service.ask(q.text, 5)["answer"] is None for q in others]
    assert np.mean(withheld) >= 0.8
