#!/usr/bin/env python3
"""What the agent's API-call tracking costs a GStreamer churn loop (tests/fixtures/api_gst_churn: build, play,
stop and free a pipeline N times): the loop alone, and with the agent preloaded and a block (tracking on: every
gst_parse_launch, set_state, get_state and pipeline unref goes through its wrappers), interleaved over ROUNDS.
usage: bench/gst-api-overhead.py CHURN AGENT [ROUNDS] [N]"""
import math, os, random, re, statistics, struct, subprocess, sys, time

# The block's protocol version, from the agent's own header: an agent handed a block of another version stays
# out of the way (no tracking at all), which would make "tracked" measure the untracked agent.
HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "agent", "agent_block.h")
VERSION = int(re.search(r"#define AGENT_BLOCK_VERSION (\d+)u", open(HEADER).read()).group(1))

churn, agent = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
n = int(sys.argv[4]) if len(sys.argv) > 4 else 300
times = {"plain": [], "tracked": []}
for r in range(rounds):
    order = list(times)
    random.shuffle(order)
    for arm in order:
        env, fds = dict(os.environ), ()
        if arm == "tracked":
            fd = os.memfd_create("agent-block", 0)
            os.ftruncate(fd, 65536)
            os.pwrite(fd, struct.pack("<II", 0x41544743, VERSION), 0)
            fds = (fd,)
            env.update(LD_PRELOAD=agent, CRASHGRID_AGENT_FD=str(fd), CRASHGRID_AGENT_MODE="attach")
        t0 = time.monotonic()
        subprocess.run([churn, str(n)], env=env, pass_fds=fds, check=True, stdout=subprocess.DEVNULL)
        times[arm].append(time.monotonic() - t0)
        for fd in fds:
            # processes_loaded (offset 8): the agent's constructor took the block, so the calls were tracked.
            (loaded,) = struct.unpack("<i", os.pread(fd, 4, 8))
            if loaded < 1:
                sys.exit(f"gst-api-overhead.py: the agent did not take the block (version {VERSION}): "
                         "the tracked arm would measure nothing")
            os.close(fd)
    print(f"round {r + 1}: " + "  ".join(f"{a} {n / times[a][-1]:.0f} churns/s" for a in times), flush=True)
med = {a: statistics.median(v) for a, v in times.items()}
print(f"median: plain {n / med['plain']:.0f} churns/s, tracked {n / med['tracked']:.0f} churns/s, "
      f"overhead {(med['tracked'] / med['plain'] - 1) * 100:+.1f}%")
# The cost measured side by side: each round's tracked time over its plain time, and a distribution-free
# interval for the median of those ratios (sign test: order statistics k and n-k+1, P(Binomial(n, 1/2) < k) <= 2.5%).
ratios = sorted(t / p - 1 for t, p in zip(times["tracked"], times["plain"]))
m = len(ratios)
k, below = 0, 0.0
while True:
    nxt = below + math.comb(m, k) / 2 ** m
    if nxt > 0.025:
        break
    below, k = nxt, k + 1
if k >= 1:
    lo, hi = ratios[k - 1], ratios[m - k]
    cover = 1 - 2 * below
    print(f"per-round cost: median {statistics.median(ratios) * 100:+.2f}%, {cover * 100:.1f}% interval "
          f"{lo * 100:+.2f}% to {hi * 100:+.2f}% ({m} rounds; rounds {ratios[0] * 100:+.1f}% to {ratios[-1] * 100:+.1f}%)")
else:
    print(f"per-round cost: median {statistics.median(ratios) * 100:+.2f}% ({m} rounds: too few for an interval)")
