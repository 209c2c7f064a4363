"""The real model: unit vectors for passages, sentences and questions, from local files only."""

import numpy as np


def test_passage_sentence_and_question_vectors_are_unit_length(embedder):
    text = "The harbour reopened on Monday. Ferries run every hour again."
    vectors, sentences = embedder.encode_passages([text], [[(0, 31), (32, len(text))]])
    assert vectors.shape == (1, embedder.dim) and sentences[0].shape == (2, embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.allclose(np.linalg.norm(sentences[0], axis=1), 1.0, atol=1e-4)
    question = embedder.start_query("When did the harbour reopen?")()
    assert abs(float(np.linalg.norm(question)) - 1.0) < 1e-4
    assert float(sentences[0][0] @ question) > float(sentences[0][1] @ question)  # the sentence that answers


def test_concurrent_questions_get_their_own_vectors(embedder):
    questions = [f"How many boats left harbour number {n}?" for n in range(12)]
    together = embedder.encode_queries(questions)
    alone = np.stack([embedder.start_query(q + " ")() for q in questions])
    assert np.allclose(together, alone, atol=1e-4)
