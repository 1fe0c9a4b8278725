// Crash signatures, as crash-report systems build them (see ../shared/DOMAIN.md): stable across runs and
// machines, so "57 crashes" becomes "57 crashes at one site".
#pragma once

#include <string>

#include "trial/trial.h"

namespace cg {

// "SIGSEGV/SEGV_MAPERR null | libfoo.so.1@0x1a2b | bar+0x10 | baz" — signal and si_code, fault address class,
// top three frames of the faulting thread after dropping the signal trampoline, libc, libpthread, ld.so and
// crashgrid's own frames.
std::string CrashSignature(const CrashReport& report);
// "hang | f1 | f2 | ..." from the distinct blocked frames across threads.
std::string HangSignature(const CrashReport& report);

}  // namespace cg
