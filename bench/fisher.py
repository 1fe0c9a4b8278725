#!/usr/bin/env python3
"""Reads lines "ARM K N [CAPTURED]" (the first arm is the reference) and prints each arm's crash rate and the
two-sided Fisher exact test against the reference (the sum of the probabilities of all tables, with the same
margins, that are no more likely than the one observed; as scipy.stats.fisher_exact)."""
import math
import sys


def logc(n, k):
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_two_sided(k1, n1, k2, n2):
    total_k, total_n = k1 + k2, n1 + n2
    lo, hi = max(0, total_k - n2), min(total_k, n1)

    def p(x):
        return math.exp(logc(n1, x) + logc(n2, total_k - x) - logc(total_n, total_k))

    observed = p(k1)
    return min(1.0, sum(p(x) for x in range(lo, hi + 1) if p(x) <= observed * (1 + 1e-7)))


rows = [line.split() for line in sys.stdin if line.strip()]
ref = rows[0]
rk, rn = int(ref[1]), int(ref[2])
print(f"| arm | crashes | rate | with stacks | Fisher p vs {ref[0]} |")
print("|---|---|---|---|---|")
for r in rows:
    k, n = int(r[1]), int(r[2])
    captured = r[3] if len(r) > 3 else "-"
    p = "-" if r is ref else f"{fisher_two_sided(k, n, rk, rn):.3g}"
    print(f"| {r[0]} | {k}/{n} | {100.0 * k / n if n else 0:.1f}% | {captured} | {p} |")
