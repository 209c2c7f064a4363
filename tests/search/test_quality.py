"""The seed question set's quality floor, with the real model."""

import pytest

from conftest import ENGINES
from helpers import SEED_QUESTIONS
from qa.evaluation import load_questions, score_questions


@pytest.mark.parametrize("engine_name", ENGINES)
def test_seed_question_set_quality_floor(seed_service_on, engine_name):
    seed_service = seed_service_on(engine_name)
    questions = load_questions(SEED_QUESTIONS)
    assert len(questions) >= 30
    figures = score_questions(seed_service, questions)
    # Floors a little under the measured figures (docs/evaluation.md): a regression fails here.
    assert figures["hit@1"] >= 0.9
    assert figures["hit@3"] >= 0.95
    assert figures["answer@1"] >= 0.8
    assert figures["avg_passage_chars"] < 500
