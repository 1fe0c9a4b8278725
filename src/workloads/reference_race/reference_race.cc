// reference-race: the built-in reference target. Each iteration opens `sessions` sessions on the shared
// refrace device, uses them, and closes them. Only `open` races (see lib/refrace.h), so the target answers
// the users' question in a known way: serializing `open` removes every crash at little cost, serializing
// `use` or `close` removes none.
#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "runtime/workload.h"
#include "workloads/reference_race/lib/refrace.h"

namespace cg {
namespace {

// The use phase does a fixed amount of work per iteration, shared among the sessions: more sessions per
// iteration means more time in `open` relative to the rest, which is what makes the crash rate rise with
// `sessions` (as more encoders per pipeline did in the first report).
constexpr unsigned kUsePassesPerIteration = 8;

class ReferenceRace final : public Workload {
 public:
  ReferenceRace() {
    info_.name = "reference-race";
    info_.summary =
        "REFERENCE TARGET (built-in, deliberately thread-unsafe): K sessions per iteration open, use and "
        "close on one shared device context; the race is in `open` only. For checking crashgrid itself";
    info_.phases = WithSetupAndTeardown({"open", "use", "close"});
    info_.params = {{"sessions", "1", "sessions opened, used and closed per iteration (1 to 64)"}};
    info_.units_name = "sessions";
    info_.reference_target = true;
  }

  const WorkloadInfo& info() const override { return info_; }

  bool Validate(const Params& params, int threads, std::string* err) const override {
    long long sessions = 0;
    return params.GetInt("sessions", 1, 1, 64, &sessions, err);
  }

  bool Init(const Params& params, int threads, std::string* err) override {
    long long sessions = 0;
    if (!params.GetInt("sessions", 1, 1, 64, &sessions, err)) return false;
    sessions_ = static_cast<int>(sessions);
    passes_ = std::max(1u, kUsePassesPerIteration / static_cast<unsigned>(sessions_));
    if (refrace_device_open() != 0) {
      *err = "could not create the refrace device (out of memory?)";
      return false;
    }
    device_open_ = true;
    return true;
  }

  void Iterate(IterationContext& ctx) override {
    std::vector<refrace_session*> open;
    open.reserve(sessions_);
    uint64_t owner = (static_cast<uint64_t>(ctx.thread()) << 32) | static_cast<uint32_t>(ctx.iteration());
    bool opened = ctx.Phase("open", [&](std::string* err) {
      for (int k = 0; k < sessions_; ++k) {
        refrace_session* s = refrace_session_open(owner);
        if (!s) {
          *err = fmt::format("refrace_session_open failed for session {} of {}", k + 1, sessions_);
          return false;
        }
        open.push_back(s);
      }
      return true;
    });
    if (opened) {
      ctx.Phase("use", [&](std::string*) {
        uint64_t sink = 0;
        for (auto* s : open) sink += refrace_session_use(s, passes_);
        sink_ += sink;  // keeps the work observable
        ctx.AddUnits(static_cast<int64_t>(open.size()));
        return true;
      });
    }
    ctx.Phase("close", [&](std::string*) {
      for (auto* s : open) refrace_session_close(s);
      return true;
    });
  }

  void Shutdown() override {
    if (device_open_) refrace_device_close();
    device_open_ = false;
  }

  ~ReferenceRace() override { Shutdown(); }

 private:
  WorkloadInfo info_;
  int sessions_ = 1;
  unsigned passes_ = kUsePassesPerIteration;
  bool device_open_ = false;
  std::atomic<uint64_t> sink_{0};
};

}  // namespace

std::unique_ptr<Workload> NewReferenceRaceWorkload() { return std::make_unique<ReferenceRace>(); }

}  // namespace cg
