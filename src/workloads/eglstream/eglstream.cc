// `eglstream`: independent EGLStreams, each with a CUDA producer and a CUDA consumer in this process, driven
// in the call order of NVIDIA's EGLStream_CUDA_Interop sample: EGL device platform display, a stream with
// EGL_SUPPORT_REUSE_NV = EGL_FALSE, the consumer connects first, then per frame
//   present -> acquire (+ cuGraphicsResourceGetMappedEglFrame) -> release -> return (702 = not back yet),
// and teardown in the order producer disconnect, consumer disconnect, eglDestroyStreamKHR, free the frames.
// (The one documented rule about frame memory: it must outlive the producer's connection.)
//
// Layouts:
//   paired  Each thread owns `streams` streams and is producer and consumer of all of them, one frame at a
//           time: the shape of the seed report (one streamer per camera thread).
//   fanout  Thread 0 is the producer of every stream; each other thread is the consumer of its own
//           `streams` streams. Rounds are coordinated here: thread 0 opens round r, consumers create and
//           connect their streams and offer them, the producer connects to every offer that arrived within
//           2 s, presents `frames` frames to each (consumers acquire and release concurrently), disconnects,
//           then consumers disconnect and destroy. Every wait is bounded and gives way at the deadline, so a
//           thread that stops early cannot hang the others. With threads=1 there is no consumer thread, so
//           thread 0 consumes its own streams (the paired shape).
#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "nvidia/egl_api.h"
#include "nvidia/errors.h"
#include "workloads/cuda/common.h"

namespace cg {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kFrameWait = std::chrono::milliseconds(1000);  // acquire / return retries give up after this
constexpr unsigned kAcquireTimeoutUs = 16000;                 // the sample's latency and timeout

struct Settings {
  int streams = 1;
  int width = 640;
  int height = 480;
  int frames = 8;
  bool fanout = false;
  ContextPolicy policy = ContextPolicy::kShared;
};

bool ParseSettings(const Params& p, Settings* s, std::string* err) {
  long long v = 0;
  if (!p.GetInt("streams", 1, 1, 64, &v, err)) return false;
  s->streams = static_cast<int>(v);
  if (!p.GetInt("width", 640, 16, 8192, &v, err)) return false;
  s->width = static_cast<int>(v);
  if (!p.GetInt("height", 480, 16, 8192, &v, err)) return false;
  s->height = static_cast<int>(v);
  if (!p.GetInt("frames", 8, 1, 100000, &v, err)) return false;
  s->frames = static_cast<int>(v);
  std::string layout;
  if (!GetChoice(p, "layout", {"paired", "fanout"}, &layout, err)) return false;
  s->fanout = layout == "fanout";
  return GetContextPolicy(p, &s->policy, err);
}

// One EGLStream and both of its CUDA ends.
struct StreamEnds {
  EGLStreamKHR stream = EGL_NO_STREAM_KHR;
  CUeglStreamConnection consumer = nullptr;
  CUeglStreamConnection producer = nullptr;
  bool consumer_connected = false;
  bool producer_connected = false;
  CUdeviceptr frame = 0;
};

class EglStreamWorkload final : public Workload {
 public:
  EglStreamWorkload() {
    info_.name = "eglstream";
    info_.summary = "CUDA producer -> EGLStream -> CUDA consumer, several independent streams per thread "
                    "(NVIDIA's EGLStream_CUDA_Interop call order)";
    info_.phases = WithSetupAndTeardown({"connect", "present", "acquire", "release", "return", "disconnect"});
    info_.params = {
        {"streams", "1", "EGLStreams per thread (per consumer thread with layout=fanout), 1..64"},
        {"width", "640", "frame width in pixels, 16..8192"},
        {"height", "480", "frame height in pixels, 16..8192"},
        {"frames", "8", "frames presented on each stream per iteration, 1..100000"},
        {"layout", "paired", "paired (each thread produces and consumes its own streams) or fanout (thread 0 "
                             "produces for every stream, each other thread consumes its own streams)"},
        {"context", "shared", kContextParamHelp},
    };
    info_.units_name = "frames";
    info_.needs_gpu = true;
  }
  const WorkloadInfo& info() const override { return info_; }

  bool Validate(const Params& p, int threads, std::string* err) const override {
    Settings s;
    return ParseSettings(p, &s, err);
  }

  bool Init(const Params& p, int threads, std::string* err) override {
    if (!ParseSettings(p, &s_, err)) return false;
    if (!InitCudaDevice(&cu_, &dev_, err)) return false;
    egl_ = Egl(err);
    if (!egl_) return false;
    if (!OpenEglCudaDisplay(*egl_, &display_, err)) return false;
    if (display_.display_extensions.find("EGL_KHR_stream") == std::string::npos) {
      *err = "the EGL display lacks EGL_KHR_stream (extensions: " + display_.display_extensions + ")";
      return false;
    }
    if (s_.policy == ContextPolicy::kShared) {
      if (!shared_.Create(*cu_, dev_, err)) return false;
      std::string ignored;
      CUcontext popped = nullptr;
      cu_->CtxPopCurrent(&popped);  // threads make it current themselves
    }
    fanout_threads_ = s_.fanout ? threads : 0;
    offers_.assign(threads, Offer{});
    return true;
  }

  std::string Detail() const override {
    return fmt::format("layout={} context={} {}x{} frames={} egl_devices={}", s_.fanout ? "fanout" : "paired",
                       s_.policy == ContextPolicy::kShared ? "shared" : "per-thread", s_.width, s_.height,
                       s_.frames, display_.devices);
  }

  bool ThreadInit(IterationContext& ctx, std::string* err) override {
    if (s_.policy == ContextPolicy::kShared) return CuOk(cu_->CtxSetCurrent(shared_.get()), "cuCtxSetCurrent", err);
    return thread_ctx_.Create(*cu_, dev_, err);
  }

  void ThreadDone(IterationContext& ctx) override {
    if (s_.policy == ContextPolicy::kShared) {
      cu_->CtxSetCurrent(nullptr);
    } else {
      thread_ctx_.Reset();
    }
  }

  void Iterate(IterationContext& ctx) override {
    if (!s_.fanout || ctx.threads() == 1) return IteratePaired(ctx);
    if (ctx.thread() == 0) return IterateProducer(ctx);
    IterateConsumer(ctx);
  }

  void Shutdown() override {
    shared_.Reset();
    if (egl_ && display_.display != EGL_NO_DISPLAY) egl_->Terminate(display_.display);
    display_.display = EGL_NO_DISPLAY;
  }

 private:
  // --- the steps, each one NVIDIA call sequence; `err` gets the call and the error by name ---

  bool CreateAndConnectConsumer(StreamEnds* e, std::string* err) {
    static const EGLint attrs[] = {EGL_SUPPORT_REUSE_NV, EGL_FALSE, EGL_NONE};
    e->stream = egl_->CreateStreamKHR(display_.display, attrs);
    if (e->stream == EGL_NO_STREAM_KHR) return EglFail(*egl_, "eglCreateStreamKHR", err);
    if (!egl_->StreamAttribKHR(display_.display, e->stream, EGL_CONSUMER_LATENCY_USEC_KHR, 16000))
      return EglFail(*egl_, "eglStreamAttribKHR(EGL_CONSUMER_LATENCY_USEC_KHR)", err);
    if (!egl_->StreamAttribKHR(display_.display, e->stream, EGL_CONSUMER_ACQUIRE_TIMEOUT_USEC_KHR, 16000))
      return EglFail(*egl_, "eglStreamAttribKHR(EGL_CONSUMER_ACQUIRE_TIMEOUT_USEC_KHR)", err);
    if (!CuOk(cu_->EGLStreamConsumerConnect(&e->consumer, e->stream), "cuEGLStreamConsumerConnect", err))
      return false;
    e->consumer_connected = true;
    return true;
  }

  bool ConnectProducer(StreamEnds* e, std::string* err) {
    if (!e->frame &&
        !CuOk(cu_->MemAlloc(&e->frame, static_cast<size_t>(s_.width) * s_.height * 4), "cuMemAlloc", err))
      return false;
    if (!CuOk(cu_->EGLStreamProducerConnect(&e->producer, e->stream, s_.width, s_.height),
              "cuEGLStreamProducerConnect", err))
      return false;
    e->producer_connected = true;
    return true;
  }

  bool Present(StreamEnds* e, int frame_no, std::string* err) {
    // A little real producer work per frame, so the frame is not an idle buffer.
    if (!CuOk(cu_->MemsetD8Async(e->frame, static_cast<unsigned char>(frame_no), static_cast<size_t>(s_.width) * 4,
                                 nullptr),
              "cuMemsetD8Async", err))
      return false;
    CUeglFrame f{};
    f.frame.pPitch[0] = reinterpret_cast<void*>(e->frame);
    f.width = static_cast<unsigned>(s_.width);
    f.height = static_cast<unsigned>(s_.height);
    f.depth = 1;
    f.pitch = static_cast<unsigned>(s_.width) * 4;
    f.planeCount = 1;
    f.numChannels = 4;
    f.frameType = CU_EGL_FRAME_TYPE_PITCH;
    f.eglColorFormat = CU_EGL_COLOR_FORMAT_ARGB;
    f.cuFormat = CU_AD_FORMAT_UNSIGNED_INT8;
    return CuOk(cu_->EGLStreamProducerPresentFrame(&e->producer, f, nullptr), "cuEGLStreamProducerPresentFrame",
                err);
  }

  // `give_up` lets the fanout consumer stop waiting when the producer abandoned the round.
  template <typename GiveUp>
  bool Acquire(StreamEnds* e, CUgraphicsResource* res, const IterationContext& ctx, GiveUp give_up,
               std::string* err) {
    auto until = Clock::now() + kFrameWait;
    CUstream stream = nullptr;
    for (;;) {
      CUresult r = cu_->EGLStreamConsumerAcquireFrame(&e->consumer, res, &stream, kAcquireTimeoutUs);
      if (r == CUDA_SUCCESS) break;
      if (r != CUDA_ERROR_LAUNCH_TIMEOUT || Clock::now() >= until || give_up())
        return CuOk(r, "cuEGLStreamConsumerAcquireFrame", err);
    }
    CUeglFrame mapped{};
    if (!CuOk(cu_->GraphicsResourceGetMappedEglFrame(&mapped, *res, 0, 0), "cuGraphicsResourceGetMappedEglFrame",
              err)) {
      cu_->EGLStreamConsumerReleaseFrame(&e->consumer, *res, &stream);
      return false;
    }
    if (mapped.width != static_cast<unsigned>(s_.width) || mapped.height != static_cast<unsigned>(s_.height)) {
      cu_->EGLStreamConsumerReleaseFrame(&e->consumer, *res, &stream);
      *err = fmt::format("cuGraphicsResourceGetMappedEglFrame: got a {}x{} frame, presented {}x{}", mapped.width,
                         mapped.height, s_.width, s_.height);
      return false;
    }
    return true;
  }

  bool Release(StreamEnds* e, CUgraphicsResource res, std::string* err) {
    CUstream stream = nullptr;
    return CuOk(cu_->EGLStreamConsumerReleaseFrame(&e->consumer, res, &stream), "cuEGLStreamConsumerReleaseFrame",
                err);
  }

  bool Return(StreamEnds* e, std::string* err) {
    auto until = Clock::now() + kFrameWait;
    for (;;) {
      CUeglFrame back{};
      CUresult r = cu_->EGLStreamProducerReturnFrame(&e->producer, &back, nullptr);
      if (r == CUDA_SUCCESS) return true;
      if (r != CUDA_ERROR_LAUNCH_TIMEOUT) return CuOk(r, "cuEGLStreamProducerReturnFrame", err);
      if (Clock::now() >= until) {
        *err = "cuEGLStreamProducerReturnFrame: " + CudaErrorName(r) + " for 1 s: the frame never came back";
        return false;
      }
      std::this_thread::yield();
    }
  }

  bool DisconnectProducer(StreamEnds* e, std::string* err) {
    if (!e->producer_connected) return true;
    e->producer_connected = false;
    return CuOk(cu_->EGLStreamProducerDisconnect(&e->producer), "cuEGLStreamProducerDisconnect", err);
  }

  bool DisconnectConsumerAndDestroy(StreamEnds* e, std::string* err) {
    bool ok = true;
    std::string first;
    if (e->consumer_connected) {
      e->consumer_connected = false;
      ok = CuOk(cu_->EGLStreamConsumerDisconnect(&e->consumer), "cuEGLStreamConsumerDisconnect", &first) && ok;
    }
    if (e->stream != EGL_NO_STREAM_KHR) {
      if (!egl_->DestroyStreamKHR(display_.display, e->stream)) {
        std::string why;
        EglFail(*egl_, "eglDestroyStreamKHR", &why);
        if (ok) first = why;
        ok = false;
      }
      e->stream = EGL_NO_STREAM_KHR;
    }
    if (e->frame) {
      std::string why;
      if (!CuOk(cu_->MemFree(e->frame), "cuMemFree", &why) && ok) {
        first = why;
        ok = false;
      }
      e->frame = 0;
    }
    if (!ok) *err = first;
    return ok;
  }

  // Runs the teardown phase over all streams, whatever state they reached.
  void Teardown(IterationContext& ctx, std::vector<StreamEnds>& ends, bool producer, bool consumer) {
    ctx.Phase("disconnect", [&](std::string* err) {
      bool ok = true;
      std::string e;
      if (producer)
        for (auto& s : ends) ok = DisconnectProducer(&s, ok ? err : &e) && ok;
      if (consumer)
        for (auto& s : ends) ok = DisconnectConsumerAndDestroy(&s, ok ? err : &e) && ok;
      return ok;
    });
  }

  void IteratePaired(IterationContext& ctx) {
    std::vector<StreamEnds> ends(s_.streams);
    bool ok = ctx.Phase("connect", [&](std::string* err) {
      for (auto& e : ends)
        if (!CreateAndConnectConsumer(&e, err) || !ConnectProducer(&e, err)) return false;
      return true;
    });
    for (int f = 0; ok && f < s_.frames && !ctx.stopping(); ++f) {
      for (auto& e : ends) {
        CUgraphicsResource res = nullptr;
        ok = ctx.Phase("present", [&](std::string* err) { return Present(&e, f, err); }) &&
             ctx.Phase("acquire", [&](std::string* err) { return Acquire(&e, &res, ctx, [] { return false; }, err); }) &&
             ctx.Phase("release", [&](std::string* err) { return Release(&e, res, err); }) &&
             ctx.Phase("return", [&](std::string* err) { return Return(&e, err); });
        if (!ok) break;
        ctx.AddUnits(1);
      }
    }
    Teardown(ctx, ends, true, true);
  }

  // --- fanout coordination ---

  struct Offer {
    int64_t round = -1;
    std::vector<StreamEnds>* ends = nullptr;
    bool taken = false;  // the producer collected it for its round
  };

  bool WaitFor(std::unique_lock<std::mutex>& lock, const IterationContext& ctx, std::chrono::milliseconds limit,
               const std::function<bool()>& pred, bool heed_deadline = true) {
    auto until = Clock::now() + limit;
    while (!pred()) {
      if ((heed_deadline && ctx.stopping()) || Clock::now() >= until) return pred();
      cv_.wait_for(lock, std::chrono::milliseconds(2));
    }
    return true;
  }

  void IterateProducer(IterationContext& ctx) {
    int64_t round;
    {
      std::lock_guard<std::mutex> lock(mu_);
      round = ++open_round_;
      connected_round_ = -1;
      cv_.notify_all();
    }
    // Collect the consumers' offers for this round.
    std::vector<std::vector<StreamEnds>*> taken;
    {
      std::unique_lock<std::mutex> lock(mu_);
      WaitFor(lock, ctx, std::chrono::milliseconds(2000), [&] {
        for (int t = 1; t < fanout_threads_; ++t)
          if (offers_[t].round != round) return false;
        return true;
      });
      for (int t = 1; t < fanout_threads_; ++t) {
        if (offers_[t].round != round) continue;
        offers_[t].taken = true;
        taken.push_back(offers_[t].ends);
      }
      collected_round_ = round;
      cv_.notify_all();
    }
    std::vector<StreamEnds*> all;
    for (auto* v : taken)
      for (auto& e : *v) all.push_back(&e);
    if (all.empty() && ctx.stopping()) {
      // The deadline fell between opening the round and the consumers' offers: not an error.
      std::lock_guard<std::mutex> lock(mu_);
      done_round_ = round;
      cv_.notify_all();
      return;
    }
    bool ok = ctx.Phase("connect", [&](std::string* err) {
      if (all.empty()) {
        *err = "fanout: no consumer thread offered a stream within 2 s";
        return false;
      }
      for (auto* e : all)
        if (!ConnectProducer(e, err)) return false;
      return true;
    });
    {
      std::lock_guard<std::mutex> lock(mu_);
      connected_round_ = ok ? round : -1;
      round_failed_ = ok ? -1 : round;
      cv_.notify_all();
    }
    for (int f = 0; ok && f < s_.frames; ++f) {
      ok = ctx.Phase("present", [&](std::string* err) {
        for (auto* e : all)
          if (!Present(e, f, err)) return false;
        return true;
      });
      if (ok)
        ok = ctx.Phase("return", [&](std::string* err) {
          for (auto* e : all)
            if (!Return(e, err)) return false;
          return true;
        });
    }
    ctx.Phase("disconnect", [&](std::string* err) {
      bool good = true;
      std::string e;
      for (auto* s : all) good = DisconnectProducer(s, good ? err : &e) && good;
      return good;
    });
    std::lock_guard<std::mutex> lock(mu_);
    if (!ok) round_failed_ = round;
    done_round_ = round;
    cv_.notify_all();
  }

  void IterateConsumer(IterationContext& ctx) {
    int64_t round;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Wait for a round this thread has not joined yet (the producer opens one per iteration).
      if (!WaitFor(lock, ctx, std::chrono::milliseconds(2000), [&] { return open_round_ > my_round_; })) return;
      round = open_round_;
    }
    my_round_ = round;
    std::vector<StreamEnds> ends(s_.streams);
    bool ok = ctx.Phase("connect", [&](std::string* err) {
      for (auto& e : ends)
        if (!CreateAndConnectConsumer(&e, err)) return false;
      return true;
    });
    bool taken = false, joined = false;
    if (ok) {
      std::unique_lock<std::mutex> lock(mu_);
      offers_[ctx.thread()] = Offer{round, &ends, false};
      cv_.notify_all();
      // Once offered, the producer may take these streams: wait for its verdict whatever the deadline.
      WaitFor(lock, ctx, std::chrono::milliseconds(10000), [&] { return collected_round_ >= round; }, false);
      taken = offers_[ctx.thread()].taken;
      if (taken)
        WaitFor(lock, ctx, std::chrono::milliseconds(10000),
                [&] { return connected_round_ == round || round_failed_ == round || done_round_ >= round; }, false);
      joined = taken && connected_round_ == round;
      if (!taken) offers_[ctx.thread()] = Offer{};
    }
    auto abandoned = [&] {
      std::lock_guard<std::mutex> lock(mu_);
      return round_failed_ == round;
    };
    for (int f = 0; joined && f < s_.frames; ++f) {
      for (auto& e : ends) {
        CUgraphicsResource res = nullptr;
        joined = ctx.Phase("acquire", [&](std::string* err) { return Acquire(&e, &res, ctx, abandoned, err); }) &&
                 ctx.Phase("release", [&](std::string* err) { return Release(&e, res, err); });
        if (!joined) break;
        ctx.AddUnits(1);
      }
    }
    if (taken) {
      // The producer disconnects first (the sample's order); never destroy a stream it may still hold.
      std::unique_lock<std::mutex> lock(mu_);
      bool producer_done = WaitFor(
          lock, ctx, std::chrono::milliseconds(10000),
          [&] { return done_round_ >= round; },
          false);
      offers_[ctx.thread()] = Offer{};
      if (!producer_done) {
        // The producer still holds pointers into `ends` (its list for this round) and may yet come back from
        // the call it is stuck in: the streams are leaked, not destroyed, and their storage is kept as it is
        // (moved whole, never zeroed or freed before the workload ends), so a late producer reads what it
        // connected, not freed memory: a crash there would be crashgrid's, reported as the driver's.
        orphaned_.push_back(std::make_unique<std::vector<StreamEnds>>(std::move(ends)));
        lock.unlock();
        ctx.Phase("disconnect", [](std::string* err) {
          *err = "fanout: the producer did not disconnect within 10 s; streams leaked rather than destroyed under it";
          return false;
        });
        return;
      }
    }
    Teardown(ctx, ends, false, true);
  }

  WorkloadInfo info_;
  Settings s_;
  const CudaApi* cu_ = nullptr;
  CUdevice dev_ = 0;
  const EglApi* egl_ = nullptr;
  EglCudaDisplay display_;
  OwnedContext shared_;
  static thread_local OwnedContext thread_ctx_;
  static thread_local int64_t my_round_;

  // fanout
  int fanout_threads_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t open_round_ = -1;
  int64_t collected_round_ = -1;
  int64_t connected_round_ = -1;
  int64_t round_failed_ = -1;
  int64_t done_round_ = -1;
  std::vector<Offer> offers_;
  // Stream ends a consumer gave up on while the producer still held them (guarded by mu_): kept as they were
  // until the workload is destroyed, after every thread has been joined.
  std::vector<std::unique_ptr<std::vector<StreamEnds>>> orphaned_;
};

thread_local OwnedContext EglStreamWorkload::thread_ctx_;
thread_local int64_t EglStreamWorkload::my_round_ = -1;

}  // namespace

std::unique_ptr<Workload> NewEglStreamWorkload() { return std::make_unique<EglStreamWorkload>(); }

}  // namespace cg
