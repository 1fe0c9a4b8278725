// `cuda`: CUDA driver churn from many threads at once. Each iteration creates a context (or makes the shared
// one current), allocates, creates streams and events, runs a little async work, and tears everything down.
// With sync=on the threads meet at a barrier before every cuCtxCreate, so context initialisations (the calls
// the public crash reports point at) really collide instead of drifting apart after the first iteration.
#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "workloads/cuda/common.h"

namespace cg {
namespace {

// A reusable barrier that never deadlocks a trial: a thread waits at most `timeout` or until the workload
// is stopping, so threads that reached the deadline (and left) cannot strand the others.
class MeetingPoint {
 public:
  explicit MeetingPoint(int parties) : parties_(parties) {}
  void Meet(const IterationContext& ctx, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    int64_t gen = generation_;
    if (++arrived_ >= parties_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
      return;
    }
    auto until = std::chrono::steady_clock::now() + timeout;
    while (generation_ == gen && !ctx.stopping() && std::chrono::steady_clock::now() < until)
      cv_.wait_for(lock, std::chrono::milliseconds(5));
    if (generation_ == gen) {
      // Gave up: open the gate for this generation so late arrivals do not count toward a stale one.
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int parties_;
  int arrived_ = 0;
  int64_t generation_ = 0;
};

class CudaWorkload final : public Workload {
 public:
  CudaWorkload() {
    info_.name = "cuda";
    info_.summary = "CUDA driver churn: contexts, allocations, streams and events created and destroyed by "
                    "every thread at once";
    info_.phases = WithSetupAndTeardown({"ctx-create", "alloc", "stream", "event", "free", "ctx-destroy"});
    info_.params = {
        {"context", "per-thread", std::string(kContextParamHelp) + "; with shared, ctx-create/ctx-destroy only "
                                  "make the context current/uncurrent"},
        {"allocs", "4", "device allocations per iteration, 1..1024"},
        {"alloc_kb", "1024", "size of each allocation in KiB, 1..1048576"},
        {"streams", "2", "CUDA streams per iteration, 1..256"},
        {"sync", "on", "on (threads meet before each ctx-create so initialisations collide) or off"},
    };
    info_.units_name = "iterations";
    info_.needs_gpu = true;
  }
  const WorkloadInfo& info() const override { return info_; }

  bool Validate(const Params& p, int threads, std::string* err) const override {
    Settings s;
    return Parse(p, &s, err);
  }

  bool Init(const Params& p, int threads, std::string* err) override {
    if (!Parse(p, &s_, err)) return false;
    if (!InitCudaDevice(&cu_, &dev_, err)) return false;
    if (s_.policy == ContextPolicy::kShared && !shared_.Create(*cu_, dev_, err)) return false;
    meeting_ = std::make_unique<MeetingPoint>(threads);
    return true;
  }

  std::string Detail() const override {
    return fmt::format("context={} sync={}", s_.policy == ContextPolicy::kShared ? "shared" : "per-thread",
                       s_.sync ? "on" : "off");
  }

  void Iterate(IterationContext& ctx) override {
    if (s_.sync && ctx.threads() > 1) meeting_->Meet(ctx, std::chrono::milliseconds(2000));
    const CudaApi& cu = *cu_;
    OwnedContext own;
    bool ok = ctx.Phase("ctx-create", [&](std::string* err) {
      if (s_.policy == ContextPolicy::kShared) return CuOk(cu.CtxSetCurrent(shared_.get()), "cuCtxSetCurrent", err);
      return own.Create(cu, dev_, err);
    });
    if (!ok) return;
    std::vector<CUdeviceptr> ptrs;
    std::vector<CUstream> streams;
    std::vector<CUevent> events;
    ok = ctx.Phase("alloc", [&](std::string* err) {
      for (int i = 0; i < s_.allocs; ++i) {
        CUdeviceptr p = 0;
        if (!CuOk(cu.MemAlloc(&p, static_cast<size_t>(s_.alloc_kb) * 1024), "cuMemAlloc", err)) return false;
        ptrs.push_back(p);
      }
      return true;
    });
    if (ok) {
      ok = ctx.Phase("stream", [&](std::string* err) {
        for (int i = 0; i < s_.streams; ++i) {
          CUstream st = nullptr;
          if (!CuOk(cu.StreamCreate(&st, CU_STREAM_NON_BLOCKING), "cuStreamCreate", err)) return false;
          streams.push_back(st);
        }
        for (size_t i = 0; i < ptrs.size(); ++i)
          if (!CuOk(cu.MemsetD8Async(ptrs[i], static_cast<unsigned char>(i), static_cast<size_t>(s_.alloc_kb) * 1024,
                                     streams[i % streams.size()]),
                    "cuMemsetD8Async", err))
            return false;
        return true;
      });
    }
    if (ok) {
      ok = ctx.Phase("event", [&](std::string* err) {
        for (CUstream st : streams) {
          CUevent ev = nullptr;
          if (!CuOk(cu.EventCreate(&ev, CU_EVENT_DEFAULT), "cuEventCreate", err)) return false;
          events.push_back(ev);
          if (!CuOk(cu.EventRecord(ev, st), "cuEventRecord", err)) return false;
        }
        for (CUevent ev : events)
          if (!CuOk(cu.EventSynchronize(ev), "cuEventSynchronize", err)) return false;
        return true;
      });
    }
    // Tear down whatever was made, also after a failure, so a failing iteration does not leak device memory.
    bool freed = ctx.Phase("free", [&](std::string* err) {
      bool all = true;
      std::string e;
      for (CUevent ev : events)
        if (!CuOk(cu.EventDestroy(ev), "cuEventDestroy", &e)) all = false;
      for (CUstream st : streams)
        if (!CuOk(cu.StreamDestroy(st), "cuStreamDestroy", &e)) all = false;
      for (CUdeviceptr p : ptrs)
        if (!CuOk(cu.MemFree(p), "cuMemFree", &e)) all = false;
      if (!all) *err = e;
      return all;
    });
    bool destroyed = ctx.Phase("ctx-destroy", [&](std::string* err) {
      if (s_.policy == ContextPolicy::kShared) return CuOk(cu.CtxSetCurrent(nullptr), "cuCtxSetCurrent(NULL)", err);
      return own.Destroy(err);
    });
    if (ok && freed && destroyed) ctx.AddUnits(1);
  }

  void Shutdown() override { shared_.Reset(); }

 private:
  struct Settings {
    ContextPolicy policy = ContextPolicy::kPerThread;
    int allocs = 4;
    long long alloc_kb = 1024;
    int streams = 2;
    bool sync = true;
  };
  static bool Parse(const Params& p, Settings* s, std::string* err) {
    Params with_default = p;
    if (!p.Has("context")) with_default.Set("context", "per-thread");
    if (!GetContextPolicy(with_default, &s->policy, err)) return false;
    long long v = 0;
    if (!p.GetInt("allocs", 4, 1, 1024, &v, err)) return false;
    s->allocs = static_cast<int>(v);
    if (!p.GetInt("alloc_kb", 1024, 1, 1 << 20, &s->alloc_kb, err)) return false;
    if (!p.GetInt("streams", 2, 1, 256, &v, err)) return false;
    s->streams = static_cast<int>(v);
    std::string sync;
    if (!GetChoice(p, "sync", {"on", "off"}, &sync, err)) return false;
    s->sync = sync == "on";
    return true;
  }

  WorkloadInfo info_;
  Settings s_;
  const CudaApi* cu_ = nullptr;
  CUdevice dev_ = 0;
  OwnedContext shared_;
  std::unique_ptr<MeetingPoint> meeting_;
};

}  // namespace

std::unique_ptr<Workload> NewCudaWorkload() { return std::make_unique<CudaWorkload>(); }

}  // namespace cg
