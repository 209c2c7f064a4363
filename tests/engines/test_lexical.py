"""The tantivy BM25 index: a filtered search ranks only the passages the filter allows, with their
own scores; the filter fields match as the store's do (any ASCII case, inclusive dates); idf
follows each commit."""

from qa.engines.analysis import idf
from qa.engines.contracts import Filter
from qa.engines.local.lexical import Bm25Index


def test_a_filtered_search_scores_only_the_allowed_passages_as_bm25_does(tmp_path):
    index = Bm25Index(tmp_path / "lexical")
    sources = ("City News", "Valley Times", None)
    index.add((pid, f"Title {pid}", f"the harbour plan number {pid} " + "harbour " * (pid % 4), f"a{pid // 3}",
               sources[pid % 3], "Ana Silva" if pid % 2 else "Ben Okafor",
               f"2024-{1 + pid % 12:02d}-15" if pid % 5 else None) for pid in range(1, 301))
    index.commit(1)
    terms = index.terms("harbour plan")
    everything = dict(index.search(terms, 300))
    cases = {Filter(articles=("a4",)): {12, 13, 14},
             Filter(sources=("city news",)): {p for p in range(1, 301) if p % 3 == 0},
             Filter(authors=("ANA SILVA",), date_from="2024-03-01", date_to="2024-04-30"):
                 {p for p in range(1, 301) if p % 2 and p % 5 and 3 <= 1 + p % 12 <= 4},
             Filter(sources=("Valley Times", "Nowhere"), date_to="2024-01-31"):
                 {p for p in range(1, 301) if p % 3 == 1 and p % 5 and p % 12 == 0}}
    for where, allowed in cases.items():
        found = index.search(terms, 300, where)
        assert {pid for pid, _ in found} == allowed, where
        assert all(abs(score - everything[pid]) < 1e-5 for pid, score in found)  # the filter adds nothing to a score
    assert index.search(terms, 10, Filter(articles=("none",))) == []
    index.close()


def test_idf_follows_every_commit_though_term_counts_are_remembered(tmp_path):
    index = Bm25Index(tmp_path / "lexical")
    row = lambda pid, body: (pid, "Port news", body, f"a{pid}", None, None, None)  # noqa: E731
    index.add(row(pid, "the ferry sailed on time") for pid in range(1, 9))
    index.add([row(9, "a storm closed the harbour")])
    index.commit(1)
    harbour, ferry = index.terms("harbour ferry")
    first = index.idf([harbour, ferry])
    assert first == index.idf([harbour, ferry]) == {harbour: idf(9, 1), ferry: idf(9, 8)}
    index.add(row(pid, "the harbour reopened") for pid in range(10, 16))
    index.commit(2)
    assert index.idf([harbour, ferry]) == {harbour: idf(15, 7), ferry: idf(15, 8)}  # counted anew
    index.close()
