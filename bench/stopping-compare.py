#!/usr/bin/env python3
"""Compares a flat sweep (ground truth) with an --until decided sweep of the same grid.

Trial-seconds: the sum of every trial's wall time, spawn to reaped (trials.duration_s).
Truth per cell from the flat sweep's crash rate p: SAFE if p <= p0, CRASHES if p >= p1, either in between.
A disagreement is a decided SAFE where the truth is CRASHES or the reverse; UNDECIDED cells are listed apart.
"""
import math, sqlite3, sys

P0, P1, ALPHA, BETA = 0.01, 0.10, 0.05, 0.05
A = math.log((1 - BETA) / ALPHA)
B = math.log(BETA / (1 - ALPHA))

def sprt(k, n):
    llr = k * math.log(P1 / P0) + (n - k) * math.log((1 - P1) / (1 - P0))
    return "CRASHES" if llr >= A else "SAFE" if llr <= B else "UNDECIDED"

def load(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    run = db.execute("select max(id) from runs").fetchone()[0]
    cells, seconds, trials = {}, 0.0, 0
    for key, outcome, dur in db.execute(
            "select cell_key, outcome, duration_s from trials where run_id=? and outcome != 'could-not-start'", (run,)):
        k, n = cells.get(key, (0, 0))
        cells[key] = (k + (outcome in ("crashed", "hung")), n + 1)
        seconds += dur
        trials += 1
    return cells, seconds, trials

flat, flat_s, flat_n = load(sys.argv[1])
dec, dec_s, dec_n = load(sys.argv[2])
disagree, undecided = [], []
for key, (k, n) in sorted(flat.items()):
    p = k / n
    truth = "SAFE" if p <= P0 else "CRASHES" if p >= P1 else "either"
    dk, dn = dec.get(key, (0, 0))
    v = sprt(dk, dn)
    if v == "UNDECIDED":
        undecided.append(f"{key} flat {k}/{n} decided {dk}/{dn}")
    elif truth != "either" and v != truth:
        disagree.append(f"{key} flat {k}/{n} ({truth}) decided {dk}/{dn} ({v})")
print(f"flat:    {flat_n} trials, {flat_s:.0f} trial-seconds over {len(flat)} cells")
print(f"decided: {dec_n} trials, {dec_s:.0f} trial-seconds")
print(f"ratio:   {flat_n / dec_n:.1f}x fewer trials, {flat_s / dec_s:.1f}x fewer trial-seconds")
print(f"cells whose verdict disagrees with the flat sweep: {len(disagree)}")
for d in disagree:
    print("  " + d)
print(f"cells left UNDECIDED at the cap: {len(undecided)}")
for u in undecided:
    print("  " + u)
