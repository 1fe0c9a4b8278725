#!/usr/bin/env python3
"""Reads bench/amplify.sh's databases: per target and mode (off: plain, on: --amplify on) and repetition, the
trial-seconds (trials.duration_s, spawn to reaped, summed in trial order) up to and including the first crash,
the trials the SPRT needed for its verdict, and the verdict. A sweep whose cap came without a crash counts its
whole exposure as a lower bound (marked >=). Means over repetitions and the ratio plain / amplified."""
import glob, os, re, sqlite3, statistics, sys

out = sys.argv[1]
wall = {}
for line in open(os.path.join(out, "wall.txt")):
    t, m, r, s = line.split()
    wall[(t, m, int(r))] = float(s)

rows = {}
for path in sorted(glob.glob(os.path.join(out, "*-*-[0-9]*.db"))):
    target, mode, rep = re.match(r"(\w+)-(\w+)-(\d+)\.db$", os.path.basename(path)).groups()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    run = db.execute("select max(id) from runs").fetchone()[0]
    seconds, first, n, crashes = 0.0, None, 0, 0
    for outcome, dur in db.execute(
            "select outcome, duration_s from trials where run_id=? and outcome != 'could-not-start' order by id",
            (run,)):
        n += 1
        seconds += dur
        if outcome in ("crashed", "hung"):
            crashes += 1
            if first is None:
                first = (seconds, n)
    v = db.execute("select verdict, evidence from cell_verdicts where run_id=?", (run,)).fetchone()
    verdict, evidence = (v[0], v[1]) if v else ("UNDECIDED", n)
    rows.setdefault((target, mode), []).append(dict(rep=int(rep), first_s=first[0] if first else seconds,
        first_n=first[1] if first else n, censored=first is None, verdict=verdict, trials=evidence, n=n,
        crashes=crashes, wall=wall.get((target, mode, int(rep)), float("nan"))))

print("| target | mode | reps | crashes / trials | verdicts | trial-seconds to first crash (mean; each) | trials to first crash (mean) | trials to verdict (mean; each) | sweep wall s (mean) |")
print("|---|---|---|---|---|---|---|---|---|")
means = {}
for (target, mode), rs in sorted(rows.items()):
    rs.sort(key=lambda r: r["rep"])
    ft = statistics.mean(r["first_s"] for r in rs)
    fn = statistics.mean(r["first_n"] for r in rs)
    tv = statistics.mean(r["trials"] for r in rs)
    wl = statistics.mean(r["wall"] for r in rs)
    means[(target, mode)] = (ft, tv, wl)
    each_ft = ", ".join(("%s%.2f" % (">=" if r["censored"] else "", r["first_s"])) for r in rs)
    each_tv = ", ".join(str(r["trials"]) for r in rs)
    verdicts = ", ".join(sorted({f'{sum(1 for x in rs if x["verdict"] == v)} {v}' for v in {r["verdict"] for r in rs}}))
    print(f'| {target} | {mode} | {len(rs)} | {sum(r["crashes"] for r in rs)} / {sum(r["n"] for r in rs)} | {verdicts} '
          f'| {ft:.2f} ({each_ft}) | {fn:.1f} | {tv:.1f} ({each_tv}) | {wl:.1f} |')
print()
for target in sorted({t for t, _ in means}):
    if (target, "off") in means and (target, "on") in means:
        off, on = means[(target, "off")], means[(target, "on")]
        print(f"{target}: time to first crash {off[0] / on[0]:.1f}x sooner amplified, trials to verdict "
              f"{off[1] / on[1]:.1f}x fewer, sweep wall time {off[2] / on[2]:.1f}x shorter")

flat = os.path.join(out, "flat.db")
if os.path.exists(flat):
    db = sqlite3.connect(f"file:{flat}?mode=ro", uri=True)
    run = db.execute("select max(id) from runs").fetchone()[0]
    print()
    print("| flat sweep of the race | trials | crashed | trial-seconds | trial-seconds per crash | median time to crash (s) |")
    print("|---|---|---|---|---|---|")
    per = {}
    for key in ("amplify=off", "amplify=on"):
        ts = db.execute("select outcome, duration_s, time_to_outcome_s from trials where run_id=? and cell_key=? "
                        "and outcome != 'could-not-start'", (run, key)).fetchall()
        k = sum(1 for o, _, _ in ts if o in ("crashed", "hung"))
        s = sum(d for _, d, _ in ts)
        times = sorted(t for o, _, t in ts if o in ("crashed", "hung"))
        per[key] = s / k if k else float("inf")
        med = "%.3f" % times[len(times) // 2] if times else "-"
        print(f"| {key} | {len(ts)} | {k} | {s:.1f} | {'>= %.1f' % s if not k else '%.2f' % (s / k)} | {med} |")
    if per["amplify=on"] > 0:
        off = per["amplify=off"]
        print()
        print("race, flat: trial-seconds per crash %s plain / amplified" %
              ("%.0fx" % (off / per["amplify=on"]) if off != float("inf") else "infinite (no plain crash)"))
