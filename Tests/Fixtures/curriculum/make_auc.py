"""Writes auc.json: sklearn roc_auc_score on random scores with ties, for rocAUC (spice analyze).
Run: /work/torchenv/bin/python Tests/Fixtures/curriculum/make_auc.py (numpy + scikit-learn)."""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score

rng = np.random.default_rng(10)
cases = []
for name, n, levels, rate in [("continuous", 200, None, 0.3), ("ties", 150, 7, 0.2), ("few-positives", 60, None, 0.05),
                              ("heavy-ties", 80, 2, 0.5), ("float32-close", 100, None, 0.4)]:
    if levels is None:
        scores = rng.normal(size=n).astype(np.float32)
    else:
        scores = rng.integers(0, levels, size=n).astype(np.float32) / levels
    positives = rng.random(n) < rate
    positives[0] = True
    positives[1] = False
    if name == "float32-close":
        scores = (scores * 1e-3 + 1).astype(np.float32)
    # Make the positives score a little higher on average so the AUC is not ~0.5 everywhere.
    if name in ("continuous", "few-positives"):
        scores = (scores + 0.7 * positives).astype(np.float32)
    cases.append({"name": name, "scores": [float(s) for s in scores], "positives": [bool(p) for p in positives],
                  "auc": float(roc_auc_score(positives, scores.astype(np.float64)))})
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "auc.json")
with open(out, "w") as f:
    json.dump({"generator": f"make_auc.py, scikit-learn {sklearn.__version__}", "cases": cases}, f)
print(out, [round(c["auc"], 4) for c in cases])
