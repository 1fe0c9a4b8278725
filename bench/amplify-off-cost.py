#!/usr/bin/env python3
"""What --amplify costs when off: ns per tracked call (bench/api_call_cost.c: the fake's cuCtxSynchronize
through dlsym) under two agents, each given a zeroed block of its own version as the supervisor would, in
interleaved rounds. usage: amplify-off-cost.py API_CALL_COST FAKECUDA AGENT_A VERSION_A AGENT_B VERSION_B
[ROUNDS] [CALLS] [EXTRA_ENV_FOR_B]"""
import os, statistics, struct, subprocess, sys

cost, fake, a, va, b, vb = sys.argv[1:7]
rounds = int(sys.argv[7]) if len(sys.argv) > 7 else 9
calls = sys.argv[8] if len(sys.argv) > 8 else "3000000"
extra_b = dict(kv.split("=", 1) for kv in sys.argv[9:])

def once(agent, version, extra):
    fd = os.memfd_create("agent-block", 0)
    os.ftruncate(fd, 65536)
    os.pwrite(fd, struct.pack("<II", 0x41544743, int(version)), 0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRASHGRID_") and k != "LD_PRELOAD"}
    env.update({"LD_PRELOAD": agent, "CRASHGRID_AGENT_FD": str(fd)}, **extra)
    out = subprocess.run([cost, fake, "cuCtxSynchronize", calls], env=env, pass_fds=(fd,), check=True,
                         capture_output=True, text=True).stdout
    os.close(fd)
    return float(out)

ra, rb = [], []
for i in range(rounds):
    for which in ((0, 1) if i % 2 == 0 else (1, 0)):
        if which == 0:
            ra.append(once(a, va, {}))
        else:
            rb.append(once(b, vb, extra_b))
print(f"A {a} (block v{va}): median {statistics.median(ra):.1f} ns/call (min {min(ra):.1f})")
print(f"B {b} (block v{vb}) {extra_b or ''}: median {statistics.median(rb):.1f} ns/call (min {min(rb):.1f})")
