"""Reference values for the SPICE scores (Tests/CurriculumTests/ScoreFixtureTests.swift).

Written straight from the formulas in float64 with numpy, independently of the Swift code.
Inputs are rounded to float32 first so Swift reads exactly the same numbers.
Run: /work/torchenv/bin/python Tests/Fixtures/curriculum/make_scores.py
"""
import json
import os

import numpy as np

EPS = 1e-8


def kl(p, q):
    p = np.clip(p, EPS, 1.0)
    q = np.clip(q, EPS, 1.0)
    return float(np.sum(p * np.log(p / q)))


def sample_scores(ps, pm, y):
    """ps: list of M unimodal distributions, pm: fused distribution, y: label."""
    m_count = len(ps)
    c = [float(p[y]) for p in ps]
    d = []
    for m in range(m_count):
        others = np.mean([ps[n] for n in range(m_count) if n != m], axis=0)
        d.append(kl(ps[m], others))
    r = float(np.prod(c)) * np.exp(-np.mean(d))
    u = 0.0
    for m in range(m_count):
        rest = np.prod([1 - c[n] for n in range(m_count) if n != m])
        u += c[m] * rest * (1 - np.exp(-d[m]))
    mean = np.mean(ps, axis=0)
    gain = float(pm[y]) - max(c)
    dsyn_paper = kl(pm, mean)
    dsyn_ref = kl(mean, pm) if m_count == 2 else kl(pm, mean)
    s_paper = gain * dsyn_paper
    s_ref = gain * (1 - np.exp(-dsyn_ref))
    # BSS-style measures.
    loss = -np.log(max(float(pm[y]), EPS))
    sims = []
    for a in range(m_count):
        for b in range(a + 1, m_count):
            na, nb = np.linalg.norm(ps[a]), np.linalg.norm(ps[b])
            sims.append(float(ps[a] @ ps[b] / (na * nb)) if na > 0 and nb > 0 else 0.0)
    return dict(c=c, c_multi=float(pm[y]), D=d, R=r, U=u, S_paper=s_paper, S_reference=s_ref,
                Dsyn_paper=dsyn_paper, Dsyn_reference=dsyn_ref, loss=loss, similarity=float(np.mean(sims)))


def minmax(x):
    x = np.asarray(x, dtype=np.float64)
    span = x.max() - x.min()
    return np.zeros_like(x) if span <= 0 else (x - x.min()) / span


def one_hot(k, c):
    v = np.zeros(c)
    v[k] = 1
    return v


def make_case(name, rng, m_count, c, n_random, seed_extra):
    rows = []  # (list of unimodal, fused, label)
    for _ in range(n_random):
        y = int(rng.integers(c))
        ps = [rng.dirichlet(np.full(c, 0.7)) for _ in range(m_count)]
        rows.append((ps, rng.dirichlet(np.full(c, 0.7)), y))
    y = 1
    uni = np.full(c, 1.0 / c)
    peaked = np.array([0.5] + [0.5 / (c - 1)] * (c - 1))
    peaked = np.roll(peaked, y)
    # one-hot, all correct
    rows.append(([one_hot(y, c)] * m_count, one_hot(y, c), y))
    # modality 0 one-hot correct, the others one-hot wrong; fused correct
    rows.append(([one_hot(y, c)] + [one_hot((y + 1) % c, c)] * (m_count - 1), one_hot(y, c), y))
    # every modality one-hot on a different wrong class
    rows.append(([one_hot((y + 1 + m) % c, c) for m in range(m_count)], one_hot((y + 1) % c, c), y))
    # uniform everywhere
    rows.append(([uni] * m_count, uni, y))
    # identical non-uniform distributions, fused equal to them
    rows.append(([peaked] * m_count, peaked, y))
    # unimodal uniform, fused confident and correct: pure synergy
    rows.append(([uni] * m_count, one_hot(y, c), y))
    # exact zeros in a non-degenerate row
    z = np.zeros(c)
    z[y], z[(y + 2) % c] = 0.75, 0.25
    rows.append(([z] + [peaked] * (m_count - 1), z, y))

    labels, unimodal, fused, out = [], [[] for _ in range(m_count)], [], []
    for ps, pm, y in rows:
        ps = [np.asarray(p, dtype=np.float32).astype(np.float64) for p in ps]
        pm = np.asarray(pm, dtype=np.float32).astype(np.float64)
        labels.append(y)
        for m in range(m_count):
            unimodal[m].extend(ps[m].tolist())
        fused.extend(pm.tolist())
        out.append(sample_scores(ps, pm, y))

    def col(k):
        return [o[k] for o in out]

    case = dict(name=name, modalities=m_count, classes=c, labels=labels, unimodal=unimodal, fused=fused,
                R=col("R"), U=col("U"), S_paper=col("S_paper"), S_reference=col("S_reference"),
                c=[[o["c"][m] for o in out] for m in range(m_count)], c_multi=col("c_multi"),
                D=[[o["D"][m] for o in out] for m in range(m_count)],
                Dsyn_paper=col("Dsyn_paper"), Dsyn_reference=col("Dsyn_reference"),
                bss_loss=col("loss"), bss_similarity=col("similarity"))
    r_hat, u_hat, s_hat = minmax(case["R"]), minmax(case["U"]), minmax(case["S_paper"])
    t = r_hat + u_hat + s_hat + EPS
    case.update(R_hat=r_hat.tolist(), U_hat=u_hat.tolist(), S_hat=s_hat.tolist(),
                P_R=(r_hat / t).tolist(), P_U=(u_hat / t).tolist(), P_S=(s_hat / t).tolist(),
                bins=np.argmax(np.stack([r_hat, u_hat, s_hat], axis=1), axis=1).tolist(),
                bss_weights=(1 - (minmax(case["bss_loss"]) - minmax(case["bss_similarity"])) + 1e-2).tolist())
    return case


def main():
    rng = np.random.default_rng(20260616)
    cases = [make_case("m2", rng, 2, 4, 12, 0), make_case("m3", rng, 3, 5, 12, 1)]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scores.json")
    with open(path, "w") as f:
        json.dump({"generator": "make_scores.py", "cases": cases}, f, indent=None)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
