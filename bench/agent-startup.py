#!/usr/bin/env python3
"""The agent's start-up cost per exec, alone: bench/forkexec_loop runs N /bin/true with no preload, with the
agent of BASE (an earlier build, its block version) and with this build's agent, each given a zeroed agent block
(memfd, magic and version set) as the supervisor would, interleaved over ROUNDS rounds. Prints runs/s per arm
per round and the medians.
usage: bench/agent-startup.py LOOP NEW_AGENT NEW_VERSION BASE_AGENT BASE_VERSION [ROUNDS] [N]"""
import os, random, statistics, struct, subprocess, sys, time

loop, new, new_v, base, base_v = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
rounds = int(sys.argv[6]) if len(sys.argv) > 6 else 5
n = int(sys.argv[7]) if len(sys.argv) > 7 else 2000


def block(version):
    fd = os.memfd_create("agent-block", 0)  # inherited, as the supervisor's is
    os.ftruncate(fd, 65536)
    os.pwrite(fd, struct.pack("<II", 0x41544743, version), 0)
    return fd


arms = {"plain": None, "base": (base, base_v), "new": (new, new_v)}
rates = {a: [] for a in arms}
for r in range(rounds):
    order = list(arms)
    random.shuffle(order)
    for a in order:
        env = dict(os.environ)
        fds = ()
        if arms[a]:
            lib, v = arms[a]
            fd = block(v)
            fds = (fd,)
            env.update(LD_PRELOAD=lib, CRASHGRID_AGENT_FD=str(fd), CRASHGRID_AGENT_MODE="attach")
        t0 = time.monotonic()
        subprocess.run([loop, str(n), "/bin/true"], env=env, pass_fds=fds, check=True, stdout=subprocess.DEVNULL)
        rates[a].append(n / (time.monotonic() - t0))
        for fd in fds:
            os.close(fd)
    print(f"round {r + 1}: " + "  ".join(f"{a} {rates[a][-1]:.0f}/s" for a in arms), flush=True)
med = {a: statistics.median(v) for a, v in rates.items()}
print("median: " + "  ".join(f"{a} {med[a]:.0f}/s" for a in arms))
print(f"per exec: base agent +{(1 / med['base'] - 1 / med['plain']) * 1e6:.0f} us, "
      f"new agent +{(1 / med['new'] - 1 / med['plain']) * 1e6:.0f} us over plain")
