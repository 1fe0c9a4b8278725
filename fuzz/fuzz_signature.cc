// The signature normaliser (capture/signature.h) on crash reports built from the input: frames of real-looking
// and arbitrary modules and symbols (a program under test names its own symbols and threads). Properties: the
// functions are deterministic; CrashSignature is "" exactly when there is no signal and starts with the signal
// name otherwise; a hang signature has at most four sites of at most 120 characters;
// AnnotateReport keeps the threads (only reordered) and puts the representative first.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <string>

#include "capture/signature.h"
#include "fuzz_check.h"

namespace {

const char* const kModules[] = {
    "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/usr/lib/libnvcuvid.so.1",
    "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/bin/crashgrid", "/opt/app/bin/decoder",
    "/usr/lib/libcrashgrid_agent.so", "[vdso]", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "", "libfoo.so",
};
const char* const kSymbols[] = {
    "", "__restore_rt", "__libc_start_main", "__libc_start_call_main", "_start", "pthread_join",
    "std::thread::join()", "cuvidDestroyDecoder", "cuCtxCreate_v2", "main", "abort", "raise", "lock_b",
};

std::string Pick(FuzzedDataProvider& p, const char* const* list, size_t n) {
  if (p.ConsumeBool()) return p.ConsumeRandomLengthString(200);
  return list[p.ConsumeIntegralInRange<size_t>(0, n - 1)];
}

cg::CrashReport MakeReport(FuzzedDataProvider& p) {
  cg::CrashReport r;
  r.signal = p.ConsumeBool() ? 0 : p.ConsumeIntegralInRange<int>(-5, 70);
  r.si_code = p.ConsumeIntegralInRange<int>(-10, 200);
  r.has_fault_address = p.ConsumeBool();
  r.fault_address = p.ConsumeIntegral<uint64_t>();
  r.faulting_tid = p.ConsumeIntegralInRange<int>(0, 20);
  size_t threads = p.ConsumeIntegralInRange<size_t>(0, 8);
  for (size_t i = 0; i < threads && p.remaining_bytes() > 0; ++i) {
    cg::ThreadStack t;
    t.tid = p.ConsumeIntegralInRange<int>(0, 20);
    t.name = p.ConsumeRandomLengthString(20);
    t.phase = p.ConsumeRandomLengthString(20);
    t.state = p.ConsumeIntegral<char>();
    if (p.ConsumeBool()) t.api = p.ConsumeRandomLengthString(40);
    size_t frames = p.ConsumeIntegralInRange<size_t>(0, 24);
    for (size_t k = 0; k < frames && p.remaining_bytes() > 0; ++k) {
      cg::Frame f;
      f.module = Pick(p, kModules, std::size(kModules));
      f.symbol = Pick(p, kSymbols, std::size(kSymbols));
      f.offset = p.ConsumeIntegral<uint64_t>();
      f.pc = p.ConsumeIntegral<uint64_t>();
      f.symbol_offset = p.ConsumeIntegral<uint64_t>();
      f.exported = p.ConsumeBool();
      t.frames.push_back(std::move(f));
    }
    r.threads.push_back(std::move(t));
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider p(data, size);
  bool hang = p.ConsumeBool();
  cg::CrashReport report = MakeReport(p);
  cg::CrashReport copy = report;
  cg::AnnotateReport(&report, hang);
  FUZZ_CHECK(report.threads.size() == copy.threads.size(), "AnnotateReport changed the number of threads");
  for (const auto& t : copy.threads) {
    bool kept = std::any_of(report.threads.begin(), report.threads.end(), [&](const cg::ThreadStack& u) {
      return u.tid == t.tid && u.frames.size() == t.frames.size() && u.name == t.name;
    });
    FUZZ_CHECK(kept, "AnnotateReport lost thread %d", t.tid);
  }
  if (hang && !report.threads.empty())
    FUZZ_CHECK(report.threads.front().tid == report.representative_tid, "the representative is not first");

  std::string crash = cg::CrashSignature(report);
  FUZZ_CHECK(crash == cg::CrashSignature(report), "CrashSignature is not deterministic");
  if (report.signal == 0) {
    FUZZ_CHECK(crash.empty(), "a signature without a signal");
  } else {
    FUZZ_CHECK(crash.rfind(cg::SignalMacroName(report.signal) + "/", 0) == 0, "signature '%s' does not start "
               "with its signal", crash.c_str());
  }
  std::string hang_sig = cg::HangSignature(report);
  FUZZ_CHECK(hang_sig.rfind("hang", 0) == 0, "hang signature '%s'", hang_sig.c_str());
  // Each site is at most 120 characters, and there are at most four: " | " between them.
  FUZZ_CHECK(hang_sig.size() <= 4 + 4 * (3 + 120), "hang signature of %zu characters", hang_sig.size());
  std::string summary = cg::CrashSummary(report);
  FUZZ_CHECK(!summary.empty(), "empty summary");
  for (const auto& t : report.threads) {
    cg::ThreadApi(t);
    cg::WaitSite(t);
    cg::SignatureFrames(t);
  }
  cg::SiCodeName(report.signal, report.si_code);
  return 0;
}
