#include "nvidia/probe.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstring>

#include "nvidia/cuda_api.h"
#include "nvidia/egl_api.h"
#include "nvidia/errors.h"
#include "nvidia/nvcuvid_api.h"
#include "nvidia/nvenc_api.h"
#include "nvidia/nvml.h"
#include "util/fd.h"

namespace cg {
namespace {

nlohmann::json Fail(const std::string& err) { return {{"ok", false}, {"error", err}}; }

// cuInit, device 0 and a fresh context made current; the probes below need one.
bool CudaContext(const CudaApi** cu, CUcontext* ctx, CUdevice* dev, std::string* err) {
  *cu = Cuda(err);
  if (!*cu) return false;
  if (!CudaInitDevice(**cu, dev, err)) return false;
  return CuOk((*cu)->CtxCreate(ctx, 0, *dev), "cuCtxCreate", err);
}

}  // namespace

std::string CudaVersionString(int v) { return fmt::format("{}.{}", v / 1000, (v % 1000) / 10); }

nlohmann::json ProbeNvml() {
  NvmlInfo info;
  std::string err;
  if (!QueryNvml(&info, &err)) return Fail(err);
  nlohmann::json gpus = nlohmann::json::array();
  for (const auto& g : info.gpus) gpus.push_back({{"name", g.name}, {"uuid", g.uuid}, {"memory_bytes", g.memory_bytes}});
  nlohmann::json j = {{"ok", true}, {"driver_version", info.driver_version}, {"gpus", gpus}};
  if (info.cuda_driver_version) j["cuda_driver_version"] = CudaVersionString(info.cuda_driver_version);
  return j;
}

nlohmann::json ProbeCudaVersion() {
  std::string err;
  const CudaApi* cu = Cuda(&err);
  if (!cu) return Fail(err);
  int v = 0;
  if (!CuOk(cu->DriverGetVersion(&v), "cuDriverGetVersion", &err)) return Fail(err);
  return {{"ok", true}, {"library", cu->library}, {"driver_version", CudaVersionString(v)}};
}

nlohmann::json ProbeCudaDevices() {
  std::string err;
  const CudaApi* cu = Cuda(&err);
  if (!cu) return Fail(err);
  if (!CuOk(cu->Init(0), "cuInit", &err)) return Fail(err);
  int n = 0;
  if (!CuOk(cu->DeviceGetCount(&n), "cuDeviceGetCount", &err)) return Fail(err);
  nlohmann::json devs = nlohmann::json::array();
  for (int i = 0; i < n; ++i) {
    CUdevice d = 0;
    if (!CuOk(cu->DeviceGet(&d, i), "cuDeviceGet", &err)) return Fail(err);
    char name[256] = {};
    cu->DeviceGetName(name, sizeof name, d);
    int major = 0, minor = 0;
    cu->DeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
    cu->DeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
    size_t mem = 0;
    cu->DeviceTotalMem(&mem, d);
    devs.push_back({{"name", name}, {"compute_capability", fmt::format("{}.{}", major, minor)}, {"memory_bytes", mem}});
  }
  if (n == 0) return Fail("cuDeviceGetCount: no CUDA device");
  return {{"ok", true}, {"devices", devs}};
}

nlohmann::json ProbeNvenc() {
  std::string err;
  const NvEncApi* api = NvEnc(&err);
  if (!api) return Fail(err);
  const CudaApi* cu = nullptr;
  CUcontext ctx = nullptr;
  CUdevice dev = 0;
  if (!CudaContext(&cu, &ctx, &dev, &err)) return Fail(err);
  NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS p{};
  p.version = NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS_VER;
  p.deviceType = NV_ENC_DEVICE_TYPE_CUDA;
  p.device = ctx;
  p.apiVersion = NVENCAPI_VERSION;
  void* enc = nullptr;
  NVENCSTATUS st = api->fn.nvEncOpenEncodeSessionEx(&p, &enc);
  nlohmann::json j;
  std::string api_max = fmt::format("{}.{}", api->driver_max_version >> 4, api->driver_max_version & 0xf);
  if (st != NV_ENC_SUCCESS) {
    NvEncOk(st, "nvEncOpenEncodeSessionEx", &err);
    j = Fail(err);
  } else {
    uint32_t count = 0;
    api->fn.nvEncGetEncodeGUIDCount(enc, &count);
    j = {{"ok", true}, {"codecs", count}};
  }
  j["api_max"] = api_max;
  if (enc) api->fn.nvEncDestroyEncoder(enc);
  cu->CtxDestroy(ctx);
  return j;
}

nlohmann::json ProbeNvdec() {
  std::string err;
  const CuvidApi* api = Cuvid(&err);
  if (!api) return Fail(err);
  const CudaApi* cu = nullptr;
  CUcontext ctx = nullptr;
  CUdevice dev = 0;
  if (!CudaContext(&cu, &ctx, &dev, &err)) return Fail(err);
  struct Codec {
    const char* name;
    cudaVideoCodec codec;
  };
  const Codec codecs[] = {{"h264", cudaVideoCodec_H264}, {"hevc", cudaVideoCodec_HEVC},
                          {"vp9", cudaVideoCodec_VP9},   {"av1", cudaVideoCodec_AV1}};
  nlohmann::json per = nlohmann::json::object();
  bool any = false;
  std::string first_err;
  for (const auto& c : codecs) {
    CUVIDDECODECAPS caps{};
    caps.eCodecType = c.codec;
    caps.eChromaFormat = cudaVideoChromaFormat_420;
    CUresult r = api->GetDecoderCaps(&caps);
    if (r != CUDA_SUCCESS) {
      std::string e;
      CuOk(r, "cuvidGetDecoderCaps", &e);
      per[c.name] = {{"supported", false}, {"error", e}};
      if (first_err.empty()) first_err = e;
      continue;
    }
    per[c.name] = {{"supported", caps.bIsSupported != 0}, {"nvdecs", caps.nNumNVDECs},
                   {"max", fmt::format("{}x{}", caps.nMaxWidth, caps.nMaxHeight)}};
    any = any || caps.bIsSupported;
  }
  cu->CtxDestroy(ctx);
  nlohmann::json j = {{"ok", any}, {"codecs", per}};
  if (!any)
    j["error"] = first_err.empty() ? "cuvidGetDecoderCaps: no codec supported (bIsSupported = 0 for H.264, HEVC, "
                                     "VP9 and AV1): this GPU has no usable NVDEC"
                                   : first_err;
  return j;
}

nlohmann::json ProbeEgl() {
  std::string err;
  const EglApi* egl = Egl(&err);
  if (!egl) return Fail(err);
  EglCudaDisplay d;
  bool ok = OpenEglCudaDisplay(*egl, &d, &err);
  nlohmann::json j = {{"ok", ok}, {"devices", d.devices}};
  if (!ok) {
    j["error"] = err;
    return j;
  }
  j["cuda_device"] = d.cuda_device;
  nlohmann::json exts = nlohmann::json::array();
  for (const char* e : {"EGL_EXT_device_base", "EGL_EXT_platform_device", "EGL_KHR_stream",
                        "EGL_KHR_stream_consumer_gltexture", "EGL_NV_stream_consumer_eglimage",
                        "EGL_KHR_stream_fifo", "EGL_NV_stream_reset", "EGL_NV_cuda_event"}) {
    std::string all = d.display_extensions + " " + d.device_extensions + " ";
    if (all.find(std::string(e) + " ") != std::string::npos) exts.push_back(e);
  }
  j["stream_extensions"] = exts;
  if (d.display_extensions.find("EGL_KHR_stream ") == std::string::npos &&
      d.display_extensions.find("EGL_KHR_stream") == std::string::npos) {
    j["ok"] = false;
    j["error"] = "the EGL device display lacks EGL_KHR_stream";
  }
  egl->Terminate(d.display);
  return j;
}

nlohmann::json InChild(const std::function<nlohmann::json()>& fn, double timeout_s) {
  int fds[2];
  if (pipe(fds) != 0) return Fail(std::string("pipe: ") + std::strerror(errno));
  ScopedFd rd(fds[0]), wr(fds[1]);
  fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    rd.reset();
    std::string out;
    try {
      out = fn().dump();
    } catch (const std::exception& e) {
      out = Fail(std::string("probe threw: ") + e.what()).dump();
    }
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = write(wr.get(), out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    _exit(0);  // no atexit handlers: driver libraries' exit paths are not ours to run twice
  }
  wr.reset();
  std::string buf;
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{rd.get(), POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char chunk[4096];
    ssize_t n = read(rd.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
  }
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return Fail(fmt::format("probe hung for {:g} s and was killed", timeout_s));
  if (WIFSIGNALED(status))
    return Fail(fmt::format("probe crashed: SIG{} ({})", sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?",
                            WTERMSIG(status)));
  try {
    return nlohmann::json::parse(buf);
  } catch (const std::exception&) {
    return Fail("probe returned no result (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
  }
}

}  // namespace cg
