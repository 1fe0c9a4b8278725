// Crash signatures, as crash-report systems build them (see ../shared/DOMAIN.md): stable across runs and
// machines, so "57 crashes" becomes "57 crashes at one site".
#pragma once

#include <string>
#include <vector>

#include "trial/trial.h"

namespace cg {

// "SIGSEGV/SEGV_MAPERR null | libfoo.so.1@0x1a2b | bar | crashgrid via foo_decode" — signal and si_code,
// fault address class, top three frames of the faulting thread after dropping the signal trampoline, libc,
// libpthread, ld.so and crashgrid's own frames, then ` via API` when the faulting thread called into a
// foreign library (its ThreadStack::api, or ThreadApi() when the report was not annotated). `via` is
// appended even when the API entry is one of the three frames: the suffix is always there to group on.
// Frames are named by symbol alone (offsets inside a function change with every build), or
// `module-basename@0xOFFSET` from the module's load base when there is no symbol. Runtime frames dropped:
// the signal trampoline, libc/libpthread/libdl/ld.so, libstdc++/libgcc_s (std::terminate and the unwinder
// sit between abort and the code that threw), sanitizer runtimes, the vDSO, and crashgrid's preloaded
// agent and handler libraries. A run of frames from the crashgrid executable (its workload runtime) becomes
// one `crashgrid` token, so a crash entered from the runtime reads `... | crashgrid` and one inside the
// runtime still has a signature.
// The address class is `null` below 64 KiB (the NULL page: a field of a NULL struct pointer) and `wild`
// above; it is left out for signals that carry no address: SIGABRT, anything sent with kill/tgkill, and a
// SIGSEGV with SI_KERNEL (a general protection fault, e.g. a non-canonical pointer, where si_addr is 0).
// Returns "" when the report has no signal.
std::string CrashSignature(const CrashReport& report);
// "hang | libcuda.so.1 via cuCtxCreate_v2 | lock_b": the sorted, de-duplicated wait sites (WaitSite) of
// the blocked threads (IsBlocked; all threads when none is), at most four, each at most 120 characters.
// Sites come in three tiers and only the best non-empty tier is used: sites the program reached (a foreign
// library entered from the program, or a program function), then threads a foreign library runs on its
// own (no program frame on the stack: a driver's idle worker), then runtime-only threads (the crashgrid
// runtime, main waiting in a join). Raw offsets never appear when an API entry or a symbol is known, so
// one stall gives one signature across trials.
std::string HangSignature(const CrashReport& report);

// Fills ThreadStack::api of every thread (ThreadApi). For a hang also chooses representative_tid and
// moves that thread to the front of `threads`: in order of preference a blocked worker whose wait site is
// a foreign library the program called, the same for a main thread, a blocked worker waiting in the
// program's own code (an application deadlock), a blocked worker inside a foreign library's own thread,
// any worker with a non-runtime frame, and else the first thread. A main thread is one with
// __libc_start_main, __libc_start_call_main or _start on its stack (per process, so reports spanning a
// shell and its child work too); when no stack shows one (truncated stacks, handler records), the
// smallest tid is taken for main.
void AnnotateReport(CrashReport* report, bool hang);

// Adds what the agent's API-call table says (AgentChannel::ApiThreads) to the threads of `report`, by tid:
// api_call, api_outer (gst_element_set_state shows its state: "gst_element_set_state(NULL)"), api_calls,
// api_call_s (from the call's entry to `stopped_mono_ns`, CLOCK_MONOTONIC), and api_caller, the first frame
// outside the agent below its outermost wrapper frame. A thread in a tracked call gets api = api_call, so
// signatures and tables name the call the agent saw. True when some thread got something.
bool AnnotateApiCalls(const std::vector<AgentThreadCall>& calls, int64_t stopped_mono_ns, CrashReport* report);

// The API entry a thread called: the innermost run of frames of one foreign shared library (not a runtime
// library, not an executable, not crashgrid's own; runtime frames inside the run, such as qsort calling
// back into the library, do not end it), and the outermost exported frame of that run; when the run has
// none, the nearest exported frame of that module further out; else "".
std::string ThreadApi(const ThreadStack& thread);
// Where a thread waits: "libcuda.so.1 via cuCtxCreate_v2" when its first non-runtime frame is in a foreign
// library (without an API entry: "libfoo.so from CALLER", CALLER being the first non-runtime frame outside
// that library, or just "libfoo.so"); else the first non-runtime frame's token ("lock_b", "crashgrid");
// "" for a thread with runtime frames only.
std::string WaitSite(const ThreadStack& thread);
// Blocked in the kernel or possibly so: state 'S' or 'D', or not known ('\0', or a ptrace/job-control stop
// 't'/'T', which hides what the thread was doing).
bool IsBlocked(const ThreadStack& thread);

// One line for people. A crash: "libnvcuvid.so.1@0x17941 via cuvidDestroyDecoder, phase stop" (the faulting
// thread's top signature frame, its API entry, its workload phase), the signal name when there are no
// frames. A hang (signal 0): "blocked in libcuda.so.1 via cuCtxCreate_v2, phase open" for the
// representative thread (representative_tid, else the first thread), "hang" when there are no threads.
std::string CrashSummary(const CrashReport& report);

// "SIGSEGV"; "SIG37" for numbers without a name.
std::string SignalMacroName(int sig);
// "SEGV_MAPERR", "SI_TKILL", ...; the number when unknown for that signal.
std::string SiCodeName(int sig, int si_code);
// The frames of one thread as signature tokens, runtime frames dropped as described above.
std::vector<std::string> SignatureFrames(const ThreadStack& thread);
// True for frames of libc, ld.so and the other runtime libraries the signature drops.
bool IsRuntimeLibraryFrame(const Frame& frame);
// True for frames of a shared library that is neither a runtime library nor crashgrid's own: the libraries
// whose API entries are named. A module is taken for a shared library when its file name contains ".so";
// the main executable (and any other executable) does not.
bool IsForeignLibraryFrame(const Frame& frame);

}  // namespace cg
