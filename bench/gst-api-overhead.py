#!/usr/bin/env python3
"""What the agent's API-call tracking costs a GStreamer churn loop (tests/fixtures/api_gst_churn: build, play,
stop and free a pipeline N times): the loop alone, and with the agent preloaded and a block (tracking on: every
gst_parse_launch, set_state, get_state and pipeline unref goes through its wrappers), interleaved over ROUNDS.
usage: bench/gst-api-overhead.py CHURN AGENT [ROUNDS] [N]"""
import os, random, statistics, struct, subprocess, sys, time

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
            os.pwrite(fd, struct.pack("<II", 0x41544743, 2), 0)
            fds = (fd,)
            env.update(LD_PRELOAD=agent, CRASHGRID_AGENT_FD=str(fd), CRASHGRID_AGENT_MODE="attach")
        t0 = time.monotonic()
        subprocess.run([churn, str(n)], env=env, pass_fds=fds, check=True, stdout=subprocess.DEVNULL)
        times[arm].append(time.monotonic() - t0)
        for fd in fds:
            os.close(fd)
    print(f"round {r + 1}: " + "  ".join(f"{a} {n / times[a][-1]:.0f} churns/s" for a in times), flush=True)
med = {a: statistics.median(v) for a, v in times.items()}
print(f"median: plain {n / med['plain']:.0f} churns/s, tracked {n / med['tracked']:.0f} churns/s, "
      f"overhead {(med['tracked'] / med['plain'] - 1) * 100:+.1f}%")
