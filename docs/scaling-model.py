import math
# Cost model of one curriculum refresh (docs/scaling.md, section 3): python3 docs/scaling-model.py
# Inputs measured by `spice bench --refresh` and `spice bench --plan-cost`; B is the fabric, alpha an assumption.
B = 100e9 / 8          # 100 Gb/s fabric, bytes/s, one link into / out of rank 0
alpha = 2e-6           # assumed per-message latency at the root (linear Gatherv/Scatterv)
plan = {182608: 0.0247, 1_000_000: 0.2438, 10_000_000: 1.6772}   # rank 0: normalise + SPICE-E order + slices (s), best of 3
score_per_sample = 1.41e-3   # s per sample per rank: np=2 scoring pass, max rank (128.7 s / 91,304)
for N in plan:
    print(f"\nN = {N:,}")
    print("| ranks | shard | scoring pass | Gatherv bytes | Gatherv time | rank-0 plan | Scatterv bytes | Scatterv time | rank-0 path total (excl. scoring) | all-gather path | rank-0 memory |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for p in [2, 3, 8, 64, 256, 1024]:
        g_bytes = 20 * N + 8 * p
        t_g = g_bytes / B + 2 * p * alpha
        s_bytes = 4 * N + 4 * p + 8
        t_s = s_bytes / B + p * alpha
        t_p = plan[N]
        # all-gather variant: every rank receives the R,U,S of all samples (12 B each), recursive doubling latency
        t_ag = (p - 1) / p * 12 * N / B + math.ceil(math.log2(p)) * alpha
        mem0 = 20 * N + 64 * N
        print(f"| {p:,} | {N//p:,} | {N/p*score_per_sample:,.1f} s | {g_bytes/1e6:.2f} MB | {t_g*1e3:.2f} ms | {t_p*1e3:.0f} ms | {s_bytes/1e6:.2f} MB | {t_s*1e3:.2f} ms | {(t_g+t_p+t_s)*1e3:.1f} ms | {(t_ag+t_p)*1e3:.1f} ms | {mem0/1e6:.0f} MB |")
for N in plan:
    print(N, "switch when 3*p*alpha > plan:", round(plan[N] / (3 * alpha)))
