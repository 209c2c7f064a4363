"""Fitting the reader and the confidence model (``run.py calibrate``) on labelled data that is never
reported on.

Every dataset is indexed into a throw-away index and each of its questions asked.

1. The answer model: every sentence of every candidate passage the reader reads is a sample,
   labelled 1 when it holds the question's short answer (datasets with short answers only).
2. The confidence model, with the new answer model in place: every ranked result is a sample,
   labelled 1 when it holds the answer (contains the evidence, or comes from a relevant BEIR
   document); questions nothing in the corpus answers give only negatives.

Each dataset weighs the same, so a large one does not decide alone. The threshold below which no
answer is given is then chosen on the same data: the lowest that still withholds an answer from
80% of the unanswerable questions (or, without any, the one that best separates right first
results from wrong).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.config import Settings
from qa.errors import BadInput
from qa.evaluation import loaders
from qa.evaluation.scoring import index_documents, normalize, throwaway_service
from qa.search import Searcher, models, reader

DEPTH = 5  # results per question, as the page and the API show them
ABSTAIN_TARGET = 0.8


@dataclass
class Dataset:
    """One dataset's questions, indexed: ``(text, evidence, short answers, relevant BEIR ids)``; a
    question with no evidence and no relevant ids is one nothing in the corpus answers."""

    name: str
    service: object
    questions: list[tuple[str, tuple[str, ...], tuple[str, ...], frozenset[str] | None]]
    original_ids: dict[str, str] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)  # per question: where it comes from, for the threshold

    def holds(self, passage, evidence: tuple[str, ...], relevant: frozenset[str] | None) -> bool:
        if relevant is not None:
            return self.original_ids[passage.article_id] in relevant
        return any(normalize(e) in normalize(passage.text) for e in evidence)


def open_dataset(entry: dict, service) -> Dataset:
    """A plan entry ``{"path", "split"?, "unanswerable"?: [paths]}``, indexed into ``service``."""
    path, split = Path(entry["path"]), entry.get("split", "train")
    data = _dataset(path, service, split)
    own = "unanswerable" if loaders.detect(path) == "folder" else "answerable"
    data.groups = [f"{data.name}: {'answerable' if ev or rel is not None else own}"
                   for _, ev, _, rel in data.questions]
    if loaders.detect(path) == "beir":  # claims, not questions: they do not decide when to answer
        data.groups = [""] * len(data.questions)
    for extra in entry.get("unanswerable", []):
        asked = loaders.load_unanswerable(Path(extra), split)
        data.questions += [(q.text, (), (), None) for q in asked]
        data.groups += [f"{data.name}: unanswerable from {extra}"] * len(asked)
    return data


def _dataset(path: Path, service, split: str) -> Dataset:
    kind = loaders.detect(path)
    name = f"{path.parent.name}/{path.name}"
    if kind == "beir":
        data = loaders.load_beir(path, split)
        index_documents(service, data.documents)
        questions = [(text, (), (), frozenset(data.qrels.get(qid, {}))) for qid, text in data.queries.items()]
        return Dataset(f"{name} ({split})", service, questions, data.original_ids)
    if kind == "folder":
        folder = loaders.load_question_folder(path)
        index_documents(service, folder.documents)
        asked = folder.questions + folder.unanswerable
    elif kind == "squad":
        documents, asked = loaders.load_squad(path)
        index_documents(service, documents)
    else:
        asked = loaders.load_questions(path)
        service.sync()
    return Dataset(name, service, [(q.text, q.evidence, q.answers, None) for q in asked])


def answer_samples(data: Dataset) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Sentence signals and labels (holds the short answer), from questions that have short answers."""
    rows, labels = [], []
    for text, _, answers, _ in data.questions:
        if not answers:
            continue
        gold = [normalize(a) for a in answers]
        read, _ = data.service.searcher.read(text, DEPTH)
        for candidate in read:
            p = candidate.passage
            rows.append(candidate.sentences)
            labels.append(np.array([any(g in normalize(p.text[a:b]) for g in gold) for a, b in p.sentences]))
    return rows, labels


def passage_samples(data: Dataset, searcher: Searcher) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """Per question: the results' signals, their labels, and whether the question is answerable."""
    samples = []
    data.service.warm([text for text, _, _, _ in data.questions])
    for text, evidence, _, relevant in data.questions:
        hits, features = searcher.search_with_features(text, DEPTH)
        labels = np.array([data.holds(h.passage, evidence, relevant) for h in hits], bool)
        samples.append((features, labels, bool(evidence) or relevant is not None))
    return samples


def _balanced(groups: list[tuple[list[np.ndarray], list[np.ndarray]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, labels and weights over several datasets, each dataset weighing the same."""
    rows, labels, weights = [], [], []
    for group_rows, group_labels in groups:
        total = sum(len(lab) for lab in group_labels)
        for r, lab in zip(group_rows, group_labels):
            if len(lab):
                rows.append(r)
                labels.append(lab)
                weights.append(np.full(len(lab), 1.0 / total))
    return np.vstack(rows), np.concatenate(labels), np.concatenate(weights)


def choose_threshold(top: list[tuple[float, bool, str]]) -> tuple[float, dict]:
    """From ``(best confidence, first result right, group)`` per question, where a group is a
    dataset's answerable questions or one source of unanswerable ones ("" for BEIR claims, which do
    not count): the lowest threshold at which the groups of unanswerable questions, each weighing
    the same, get no answer for 80% (or, without any, the one that best separates right first
    results from wrong); the answered rate is the mean over answerable groups."""
    groups: dict[str, list[tuple[float, bool]]] = {}
    for c, right, group in top:
        if group:
            groups.setdefault(group, []).append((c, right))
    answerable = {g: v for g, v in groups.items() if g.endswith(": answerable")}
    unanswerable = {g: v for g, v in groups.items() if not g.endswith(": answerable")}
    grid = np.round(np.arange(0.02, 0.96, 0.01), 2)

    def abstained(t: float) -> float:
        return float(np.mean([np.mean([c < t for c, _ in v]) for v in unanswerable.values()]))

    def answered(t: float) -> float:
        return float(np.mean([np.mean([c >= t for c, _ in v]) for v in answerable.values()]))

    if unanswerable:
        feasible = [t for t in grid if abstained(t) >= ABSTAIN_TARGET]
        threshold = float(min(feasible)) if feasible else float(max(grid, key=abstained))
    else:
        pairs = [pair for v in answerable.values() for pair in v]
        threshold = float(max(grid, key=lambda t: np.mean([(c >= t) == right for c, right in pairs])))
    report = {"threshold": threshold, "answered": round(answered(threshold), 4) if answerable else None,
              "groups": {g: round(float(np.mean([(c >= threshold) if g in answerable else (c < threshold)
                                                  for c, _ in v])), 4) for g, v in groups.items()}}
    if unanswerable:
        report["abstained"] = round(abstained(threshold), 4)
    return threshold, report


def load_plan(path: Path) -> list[dict]:
    try:
        plan = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise BadInput("bad_eval_file", f"{path}: not a readable calibration plan ({exc})") from None
    if not isinstance(plan, list) or not all(isinstance(e, dict) and "path" in e for e in plan):
        raise BadInput("bad_eval_file", f"{path}: expected a JSON list of {{\"path\", \"split\", \"unanswerable\"}}")
    return plan


def run(plan: Path, settings: Settings, work_dir: Path | None = None, out: Path | None = None, encoder=None) -> dict:
    entries = load_plan(plan)
    contexts = [throwaway_service(settings, Path(work_dir) / f"{n}-{Path(e['path']).name}" if work_dir else None,
                                  encoder) for n, e in enumerate(entries)]
    services = [context.__enter__() for context in contexts]
    try:
        datasets = [open_dataset(entry, service) for entry, service in zip(entries, services)]
        answer_groups = [answer_samples(d) for d in datasets]
        rows, labels, weights = _balanced([g for g in answer_groups if g[1]])
        answer = models.fit(reader.FEATURES, rows, labels, weights)
        interim = models.Models(answer, models.load().confidence, 0.5)
        per_dataset = [passage_samples(d, Searcher(d.service.engine, d.service.encoder, settings.ranking, interim))
                       for d in datasets]
        rows, labels, weights = _balanced([([f for f, _, _ in s], [lab for _, lab, _ in s]) for s in per_dataset])
        confidence = models.fit(models.PASSAGE_FEATURES, rows, labels, weights)
        top = [(float(confidence.probability(f).max()) if len(f) else 0.0, bool(lab[:1].any()), group)
               for d, s in zip(datasets, per_dataset) for (f, lab, _), group in zip(s, d.groups)]
        threshold, choice = choose_threshold(top)
        fitted = models.Models(answer, confidence, threshold, tuple(d.name for d in datasets))
        choice["ece_in_sample"] = round(models.expected_calibration_error(confidence.probability(rows), labels), 4)
    finally:
        for context in contexts:
            context.__exit__(None, None, None)
    target = Path(out or models.MODEL_FILE)
    target.write_text(json.dumps(fitted.to_json(), indent=2) + "\n")
    return {"datasets": [{"name": d.name, "questions": len(d.questions)} for d in datasets],
            "answer_weights": dict(zip(reader.FEATURES, np.round(answer.weights, 3).tolist())),
            "confidence_weights": dict(zip(models.PASSAGE_FEATURES, np.round(confidence.weights, 3).tolist())),
            **choice, "written": str(target)}


def format_report(report: dict) -> str:
    lines = [f"{d['name']}: {d['questions']} questions" for d in report["datasets"]]
    for name in ("answer_weights", "confidence_weights"):
        lines.append(f"{name.replace('_', ' ')} (standardized features): "
                     + ", ".join(f"{k} {v:+.3f}" for k, v in report[name].items()))
    lines.append(f"no answer below {report['threshold']}: answered {report['answered']:.1%} of answerable questions"
                 + (f", none given for {report['abstained']:.1%} of unanswerable ones" if "abstained" in report else ""))
    lines += [f"  {group}: {'answered' if group.endswith(': answerable') else 'no answer for'} {share:.1%}"
              for group, share in report["groups"].items()]
    lines.append(f"ECE on the fitting data (10 bins): {report['ece_in_sample']}")
    lines.append(f"written to {report['written']}")
    return "\n".join(lines)
