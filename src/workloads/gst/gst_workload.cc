// gst: the first report's workload. Each iteration builds one pipeline of K copies of a branch
// (gst_parse_launch), sets it PLAYING and waits for it to preroll (or fail), sets it back to NULL and drops
// it. Errors on the way (no encoder session left, negotiation failures, timeouts) are counted, not fatal.
#include <gst/gst.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "util/strings.h"
#include "runtime/workload.h"

namespace cg {
namespace {

struct Candidate {
  const char* label;
  const char* branch;
  std::vector<const char*> elements;  // factories that must exist
};

// In order of preference: the report's DeepStream branch, then GStreamer's own NVIDIA encoders, then CUDA
// memory transfers alone, then a CPU encoder so the workload runs anywhere (kept light: tiny frames).
const Candidate kCandidates[] = {
    {"DeepStream encoder", "videotestsrc ! nvvideoconvert ! nvv4l2h264enc ! fakesink",
     {"videotestsrc", "nvvideoconvert", "nvv4l2h264enc", "fakesink"}},
    {"GStreamer NVENC encoder", "videotestsrc ! nvh264enc ! fakesink", {"videotestsrc", "nvh264enc", "fakesink"}},
    {"GStreamer CUDA NVENC encoder", "videotestsrc ! cudaupload ! nvcudah264enc ! fakesink",
     {"videotestsrc", "cudaupload", "nvcudah264enc", "fakesink"}},
    {"GStreamer CUDA upload/download (no encoder)", "videotestsrc ! cudaupload ! cudadownload ! fakesink",
     {"videotestsrc", "cudaupload", "cudadownload", "fakesink"}},
    {"CPU encoder (no NVIDIA elements found)",
     "videotestsrc ! video/x-raw,width=160,height=120,framerate=30/1 ! x264enc speed-preset=ultrafast "
     "tune=zerolatency ! fakesink",
     {"videotestsrc", "x264enc", "fakesink"}},
};

bool HasFactory(const char* name) {
  GstElementFactory* f = gst_element_factory_find(name);
  if (!f) return false;
  gst_object_unref(f);
  return true;
}

// Owns a pipeline; on early exit (a failed phase) it still goes to NULL before the last unref, because
// dropping a pipeline that is not in NULL is a GStreamer bug ("not in NULL state").
class PipelineRef {
 public:
  PipelineRef() = default;
  ~PipelineRef() { Reset(); }
  PipelineRef(const PipelineRef&) = delete;
  PipelineRef& operator=(const PipelineRef&) = delete;
  GstElement* get() const { return p_; }
  void Adopt(GstElement* p) {
    Reset();
    p_ = p;
  }
  void Reset() {
    if (!p_) return;
    gst_element_set_state(p_, GST_STATE_NULL);
    gst_object_unref(p_);
    p_ = nullptr;
  }
  GstElement* Release() { return std::exchange(p_, nullptr); }

 private:
  GstElement* p_ = nullptr;
};

struct MessageRef {
  GstMessage* m = nullptr;
  ~MessageRef() {
    if (m) gst_message_unref(m);
  }
};

std::string BusErrorText(GstMessage* m) {
  GError* e = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(m, &e, &debug);
  std::string text = e ? e->message : "unknown error";
  if (GST_MESSAGE_SRC(m)) text += fmt::format(" (from {})", GST_OBJECT_NAME(GST_MESSAGE_SRC(m)));
  if (e) g_error_free(e);
  g_free(debug);
  return text;
}

class GstWorkload final : public Workload {
 public:
  GstWorkload() {
    info_.name = "gst";
    info_.summary =
        "the first report's workload: per iteration, gst_parse_launch a pipeline of K copies of a branch, "
        "PLAYING until prerolled, NULL, unref";
    info_.phases = WithSetupAndTeardown({"build", "start", "stop", "unref"});
    info_.params = {
        {"branches", "", "copies of the branch in one pipeline, 1 to 64 (default: $ENCODERS_PER_PIPELINE, else 1)"},
        {"branch", "",
         "a gst-launch fragment (default: the first that exists of DeepStream nvv4l2h264enc, nvh264enc, "
         "nvcudah264enc, cudaupload/cudadownload, x264enc)"},
        {"start-timeout", "5s", "how long to wait for PLAYING (ASYNC_DONE) before counting an error"},
    };
  }

  const WorkloadInfo& info() const override { return info_; }

  bool Validate(const Params& params, int threads, std::string* err) const override {
    int branches = 0;
    double timeout = 0;
    return ParseBranches(params, &branches, err) && params.GetDuration("start-timeout", 5, &timeout, err);
  }

  bool Init(const Params& params, int threads, std::string* err) override {
    if (!ParseBranches(params, &branches_, err) || !params.GetDuration("start-timeout", 5, &start_timeout_s_, err))
      return false;
    static std::once_flag once;
    static std::string init_error;
    std::call_once(once, [] {
      GError* e = nullptr;
      if (!gst_init_check(nullptr, nullptr, &e)) {
        init_error = fmt::format("GStreamer could not initialise: {}", e ? e->message : "unknown reason");
        if (e) g_error_free(e);
      }
    });
    if (!init_error.empty()) {
      *err = init_error;
      return false;
    }
    if (params.Has("branch")) {
      branch_ = std::string(Trim(params.Get("branch")));
      label_ = "user branch";
      if (branch_.empty()) {
        *err = "parameter 'branch' is empty (give a gst-launch fragment such as 'videotestsrc ! fakesink')";
        return false;
      }
      return CheckElementsExist(err);
    }
    for (const auto& c : kCandidates) {
      bool ok = true;
      for (const char* e : c.elements) ok = ok && HasFactory(e);
      if (ok) {
        branch_ = c.branch;
        label_ = c.label;
        break;
      }
    }
    if (branch_.empty()) {
      *err = "no usable GStreamer branch: none of nvv4l2h264enc, nvh264enc, nvcudah264enc, cudaupload or "
             "x264enc (with videotestsrc and fakesink) is installed (install gstreamer1.0-plugins-ugly, or pass "
             "--param branch=...)";
      return false;
    }
    description_ = PipelineDescription();
    return true;
  }

  std::string Detail() const override { return fmt::format("{} x [{}] ({})", branches_, branch_, label_); }

  void Iterate(IterationContext& ctx) override {
    PipelineRef pipeline;
    bool built = ctx.Phase("build", [&](std::string* err) {
      GError* e = nullptr;
      GstElement* p = gst_parse_launch(description_.c_str(), &e);
      if (e) {
        *err = e->message;
        g_error_free(e);
        if (p) pipeline.Adopt(p);
        return false;
      }
      if (!p) {
        *err = "gst_parse_launch returned no pipeline";
        return false;
      }
      pipeline.Adopt(p);
      return true;
    });
    if (!built) return;  // PipelineRef drops a partial pipeline
    ctx.Phase("start", [&](std::string* err) { return Start(ctx, pipeline.get(), err); });
    // Stopped and dropped whether or not it started, like the report's program.
    ctx.Phase("stop", [&](std::string* err) {
      if (gst_element_set_state(pipeline.get(), GST_STATE_NULL) == GST_STATE_CHANGE_FAILURE) {
        *err = "state change to NULL failed";
        gst_object_unref(pipeline.Release());
        return false;
      }
      return true;
    });
    GstElement* p = pipeline.Release();
    if (p) {
      ctx.Phase("unref", [&](std::string*) {
        gst_object_unref(p);
        return true;
      });
    }
  }

 private:
  bool ParseBranches(const Params& params, int* out, std::string* err) const {
    long long fallback = 1;
    if (const char* env = std::getenv("ENCODERS_PER_PIPELINE"); env && *env && !params.Has("branches")) {
      if (!ParseInt(Trim(env), &fallback) || fallback < 1 || fallback > 64) {
        *err = fmt::format("ENCODERS_PER_PIPELINE='{}' is not a branch count from 1 to 64 (fix it or pass "
                           "--param branches=N)",
                           env);
        return false;
      }
    }
    long long v = 0;
    if (!params.GetInt("branches", fallback, 1, 64, &v, err)) return false;
    *out = static_cast<int>(v);
    return true;
  }

  std::string PipelineDescription() const {
    std::vector<std::string> copies(branches_, branch_);
    return Join(copies, "  ");
  }

  // A user branch naming an element that is not installed can never run: say so once, up front, instead of
  // counting the same parse error in every iteration. Other parse errors stay counted errors.
  bool CheckElementsExist(std::string* err) {
    description_ = PipelineDescription();
    GError* e = nullptr;
    GstElement* p = gst_parse_launch(branch_.c_str(), &e);
    if (p) {
      gst_element_set_state(p, GST_STATE_NULL);
      gst_object_unref(p);
    }
    if (!e) return true;
    bool missing = e->domain == GST_PARSE_ERROR && e->code == GST_PARSE_ERROR_NO_SUCH_ELEMENT;
    std::string msg = e->message;
    g_error_free(e);
    if (!missing) return true;
    *err = fmt::format("branch '{}' cannot be built: {} (check the name with gst-inspect-1.0, or install its "
                       "plugin)",
                       branch_, msg);
    return false;
  }

  bool Start(IterationContext& ctx, GstElement* p, std::string* err) {
    GstBus* bus = gst_element_get_bus(p);
    struct BusRef {
      GstBus* b;
      ~BusRef() { gst_object_unref(b); }
    } bus_ref{bus};
    GstStateChangeReturn r = gst_element_set_state(p, GST_STATE_PLAYING);
    if (r == GST_STATE_CHANGE_FAILURE) {
      MessageRef m{gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)};
      *err = m.m ? BusErrorText(m.m) : "state change to PLAYING failed";
      return false;
    }
    if (r != GST_STATE_CHANGE_ASYNC) return true;  // no preroll to wait for (live source or already there)
    const auto types = static_cast<GstMessageType>(GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    double waited = 0;
    constexpr double kSlice = 0.05;
    while (waited < start_timeout_s_) {
      double slice = std::min(kSlice, start_timeout_s_ - waited);
      MessageRef m{gst_bus_timed_pop_filtered(bus, static_cast<GstClockTime>(slice * GST_SECOND), types)};
      waited += slice;
      if (!m.m) {
        // Past the trial's deadline a slow start is not worth waiting for: let the thread finish on time.
        if (ctx.stopping()) return true;
        continue;
      }
      switch (GST_MESSAGE_TYPE(m.m)) {
        case GST_MESSAGE_ERROR: *err = BusErrorText(m.m); return false;
        case GST_MESSAGE_EOS: return true;  // ran to the end before we looked: it started
        default: return true;               // ASYNC_DONE
      }
    }
    *err = fmt::format("pipeline did not reach PLAYING within {} (no ASYNC_DONE)", FormatDuration(start_timeout_s_));
    return false;
  }

  WorkloadInfo info_;
  int branches_ = 1;
  double start_timeout_s_ = 5;
  std::string branch_;
  std::string label_;
  std::string description_;
};

}  // namespace

std::unique_ptr<Workload> NewGstWorkload() { return std::make_unique<GstWorkload>(); }

}  // namespace cg
