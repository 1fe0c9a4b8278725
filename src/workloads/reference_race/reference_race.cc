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
#include "workloads/reference_race/lib/refrace_iteration.h"

namespace cg {
namespace {

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
    passes_ = refrace_iteration_passes(sessions_);
    if (refrace_device_open() != 0) {
      *err = "could not create the refrace device (out of memory?)";
      return false;
    }
    device_open_ = true;
    return true;
  }

  // The loop body is lib/refrace_iteration.h, which `crashgrid repro` exports as it is.
  void Iterate(IterationContext& ctx) override {
    std::vector<refrace_session*> open(static_cast<size_t>(sessions_));
    int opened = 0;
    uint64_t owner = refrace_iteration_owner(ctx.thread(), ctx.iteration());
    bool ok = ctx.Phase("open", [&](std::string* err) {
      opened = refrace_iteration_open(owner, sessions_, open.data());
      if (opened == sessions_) return true;
      *err = fmt::format("refrace_session_open failed for session {} of {}", opened + 1, sessions_);
      return false;
    });
    if (ok) {
      ctx.Phase("use", [&](std::string*) {
        sink_ += refrace_iteration_use(open.data(), opened, passes_);  // keeps the work observable
        ctx.AddUnits(opened);
        return true;
      });
    }
    ctx.Phase("close", [&](std::string*) {
      refrace_iteration_close(open.data(), opened);
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
  unsigned passes_ = REFRACE_USE_PASSES_PER_ITERATION;
  bool device_open_ = false;
  std::atomic<uint64_t> sink_{0};
};

}  // namespace

std::unique_ptr<Workload> NewReferenceRaceWorkload() { return std::make_unique<ReferenceRace>(); }

}  // namespace cg
