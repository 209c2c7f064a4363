"""The tantivy BM25 index: a filtered search ranks only the allowed passages, with their own scores."""

import numpy as np

from qa.engines.local.lexical import Bm25Index


def test_a_filtered_search_scores_only_the_allowed_passages_as_bm25_does(tmp_path):
    index = Bm25Index(tmp_path / "lexical")
    index.add((pid, f"Title {pid}", f"the harbour plan number {pid} " + "harbour " * (pid % 4)) for pid in range(1, 301))
    index.commit(1)
    terms = index.terms("harbour plan")
    everything = dict(index.search(terms, 300))
    allowed = np.array([5, 100, 150, 299], np.int64)  # 1, 0, 2 and 3 more "harbour"s
    found = index.search(terms, 10, allowed)
    assert [pid for pid, _ in found] == sorted(allowed.tolist(), key=lambda p: -everything[p])
    assert all(abs(score - everything[pid]) < 1e-5 for pid, score in found)  # the filter adds nothing to a score
    assert index.search(terms, 10, np.zeros(0, np.int64)) == []
    index.close()
