"""scikit-learn reference values for the curriculum metrics (Tests/CurriculumTests/MetricsTests.swift).

Needs numpy and scikit-learn (/work/torchenv/bin/pip install scikit-learn); CI only reads the JSON.
Run: /work/torchenv/bin/python Tests/Fixtures/curriculum/make_metrics.py
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, average_precision_score, f1_score


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def expected(labels, scores, predictions, c):
    """Metrics of flat scores [n, c] and predictions, with every documented policy."""
    onehot = np.eye(c)[labels]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the no-positive-class and zero-division warnings
        per_class = average_precision_score(onehot, scores, average=None)
        has_pos = onehot.sum(axis=0) > 0
        return dict(
            accuracy=accuracy_score(labels, predictions),
            map_zero=float(average_precision_score(onehot, scores, average="macro")),
            map_excluded=float(np.mean(np.asarray(per_class)[has_pos])),
            ap_per_class=[float(x) if h else None for x, h in zip(per_class, has_pos)],
            f1_present=float(f1_score(labels, predictions, average="macro")),
            f1_all_zero=float(f1_score(labels, predictions, labels=list(range(c)), average="macro", zero_division=0)),
            f1_all_one=float(f1_score(labels, predictions, labels=list(range(c)), average="macro", zero_division=1)),
        )


def score_case(name, labels, scores, predictions, c):
    scores = np.asarray(scores, dtype=np.float32)
    labels = np.asarray(labels)
    predictions = np.asarray(predictions)
    case = dict(name=name, kind="scores", classes=c, labels=labels.tolist(),
                scores=scores.astype(np.float64).ravel().tolist(), predictions=predictions.tolist())
    case.update(expected(labels, scores.astype(np.float64), predictions, c))
    return case


def logit_case(name, rng, n, c, m_count, scale, labels=None):
    """Eq. 18-19: predictions and mAP from the summed logits of the fused and unimodal heads."""
    fused = rng.normal(0, scale, (n, c)).astype(np.float32)
    uni = [rng.normal(0, scale, (n, c)).astype(np.float32) for _ in range(m_count)]
    if labels is None:
        labels = rng.integers(0, c, n)
    total = fused.astype(np.float64) + sum(u.astype(np.float64) for u in uni)
    predictions = total.argmax(axis=1)
    case = dict(name=name, kind="logits", classes=c, labels=labels.tolist(),
                fused_logits=fused.astype(np.float64).ravel().tolist(),
                unimodal_logits=[u.astype(np.float64).ravel().tolist() for u in uni],
                modality_accuracy=[accuracy_score(labels, u.argmax(axis=1)) for u in uni])
    case.update(expected(labels, softmax(total), predictions, c))
    return case


def main():
    rng = np.random.default_rng(7)
    cases = []
    # Random heads, 2 and 3 modalities; class 4 of 6 never occurs in the labels.
    lab = rng.choice([0, 1, 2, 3, 5], 80)
    cases.append(logit_case("logits_m2_no_positive_class", rng, 80, 6, 2, 1.5, lab))
    cases.append(logit_case("logits_m3", rng, 50, 4, 3, 2.0))
    # Ties: scores on a coarse grid, so many samples share a threshold within a class.
    n, c = 40, 4
    lab = rng.integers(0, c, n)
    s = rng.integers(0, 5, (n, c)) / 4.0
    cases.append(score_case("ties", lab, s, s.argmax(axis=1), c))
    # Perfect: one-hot scores (ties within every column) and exact predictions.
    lab = np.array([0, 1, 2, 2, 1, 0, 3, 3, 2, 0])
    cases.append(score_case("perfect", lab, np.eye(4)[lab], lab, 4))
    # Worst: every positive scores below every negative; predictions always wrong.
    lab = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    worst = 1.0 - np.eye(3)[lab] + rng.uniform(0, 0.01, (8, 3))
    cases.append(score_case("worst", lab, worst, (lab + 1) % 3, 3))
    # Class 3 predicted but never true, class 4 neither predicted nor true (labels=range(C) matters).
    lab = np.array([0, 0, 1, 1, 2, 2, 0, 1])
    pred = np.array([0, 3, 1, 1, 2, 3, 0, 0])
    sc = rng.uniform(0, 1, (8, 5))
    cases.append(score_case("absent_classes", lab, sc, pred, 5))
    # All scores equal: a single threshold, AP = positive rate.
    lab = np.array([0, 1, 1, 0, 1, 2])
    cases.append(score_case("constant_scores", lab, np.full((6, 3), 0.5), np.zeros(6, dtype=int), 3))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics.json")
    with open(path, "w") as f:
        json.dump({"generator": "make_metrics.py", "sklearn": sklearn.__version__, "cases": cases}, f)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
