"""``run.py calibrate``: both models fitted from a plan of datasets, each weighing the same, with the
threshold chosen on unanswerable questions (the small test encoder: the fitting is the subject)."""

import json

from qa.config import Settings
from qa.evaluation import calibration
from qa.search import models, reader

ARTICLES = {
    "ferry.txt": "Ferry Returns\n\nThe harbour ferry returned to service on Monday after repairs. "
                 "It now runs every hour. Tickets cost two pounds for adults.",
    "bridge.txt": "Bridge Reopens\n\nThe Kelvin bridge reopened on Friday. Engineers replaced its cables. "
                  "The work cost four million pounds.",
}
QUESTIONS = [
    {"question": "When did the ferry return to service?", "evidence": ["returned to service on Monday"],
     "answer": "Monday"},
    {"question": "How often does the ferry run?", "evidence": ["It now runs every hour"], "answer": "every hour"},
    {"question": "What did the bridge work cost?", "evidence": ["The work cost four million pounds"],
     "answer": "four million pounds"},
    {"question": "What did engineers replace on the bridge?", "evidence": ["Engineers replaced its cables"],
     "answer": "cables"},
]


def test_calibrate_fits_both_models_and_writes_them(tmp_path, test_encoder):
    folder = tmp_path / "set"
    (folder / "articles").mkdir(parents=True)
    for name, text in ARTICLES.items():
        (folder / "articles" / name).write_text(text)
    (folder / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    (folder / "unanswerable.jsonl").write_text(json.dumps({"question": "Who painted the Mona Lisa?"}) + "\n")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"path": str(folder)}]))
    out = tmp_path / "models.json"
    report = calibration.run(plan, Settings(corpus_dir=tmp_path / "none", index_dir=tmp_path / "unused"),
                             out=out, encoder=test_encoder)
    fitted = models.Models.from_json(json.loads(out.read_text()))
    name = f"{tmp_path.name}/set"
    assert fitted.answer.features == reader.FEATURES and fitted.fitted_on == (name,)
    assert report["datasets"] == [{"name": name, "questions": 5}]
    assert 0 < fitted.min_confidence < 1
    assert report["abstained"] == 1.0 == report["groups"][f"{name}: unanswerable"]  # the one question gets none
    assert 0 <= report["answered"] <= 1 and report["groups"][f"{name}: answerable"] == report["answered"]
    assert not (tmp_path / "unused").exists(), "calibration indexes into a throw-away index"
