// Crash signatures, as crash-report systems build them (see ../shared/DOMAIN.md): stable across runs and
// machines, so "57 crashes" becomes "57 crashes at one site".
#pragma once

#include <string>
#include <vector>

#include "trial/trial.h"

namespace cg {

// "SIGSEGV/SEGV_MAPERR null | libfoo.so.1@0x1a2b | bar | crashgrid" — signal and si_code, fault address class,
// top three frames of the faulting thread after dropping the signal trampoline, libc, libpthread, ld.so and
// crashgrid's own frames.
// Frames are named by symbol alone (offsets inside a function change with every build), or
// `module-basename@0xOFFSET` from the module's load base when there is no symbol. Runtime frames dropped:
// the signal trampoline, libc/libpthread/libdl/ld.so, libstdc++/libgcc_s (std::terminate and the unwinder
// sit between abort and the code that threw), sanitizer runtimes and the vDSO. A run of frames from the
// crashgrid executable (its workload runtime) becomes one `crashgrid` token, so a crash entered from the
// runtime reads `... | crashgrid` and one inside the runtime still has a signature.
// The address class is `null` below 64 KiB (the NULL page: a field of a NULL struct pointer) and `wild`
// above; it is left out for signals that carry no address (SIGABRT, anything sent with kill/tgkill).
// Returns "" when the report has no signal.
std::string CrashSignature(const CrashReport& report);
// "hang | f1 | f2 | ..." from the distinct blocked frames across threads: the first frame of each thread that
// survives the filter above, deduplicated, sorted, at most four. `crashgrid` (runtime threads waiting for
// the workers) is left out unless nothing else is there.
std::string HangSignature(const CrashReport& report);

// "SIGSEGV"; "SIG37" for numbers without a name.
std::string SignalMacroName(int sig);
// "SEGV_MAPERR", "SI_TKILL", ...; the number when unknown for that signal.
std::string SiCodeName(int sig, int si_code);
// The frames of one thread as signature tokens, runtime frames dropped as described above.
std::vector<std::string> SignatureFrames(const ThreadStack& thread);
// True for frames of libc, ld.so and the other runtime libraries the signature drops.
bool IsRuntimeLibraryFrame(const Frame& frame);

}  // namespace cg
