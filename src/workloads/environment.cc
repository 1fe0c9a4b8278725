#include "workloads/environment.h"

#include <gst/gst.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "nvidia/probe.h"
#include "util/strings.h"

namespace cg {

const std::vector<std::string>& NvidiaGstElements() {
  static const std::vector<std::string> names = {
      // DeepStream
      "nvvideoconvert", "nvv4l2h264enc", "nvv4l2h265enc", "nvv4l2decoder", "nvstreammux",
      // nvcodec (gst-plugins-bad)
      "cudaupload", "cudadownload", "cudaconvert", "cudascale", "nvh264enc", "nvh265enc", "nvcudah264enc",
      "nvcudah265enc", "nvautogpuh264enc", "nvh264dec", "nvh265dec", "nvh264sldec"};
  return names;
}

nlohmann::json ProbeGstreamer() {
  nlohmann::json j;
  GError* error = nullptr;
  if (!gst_init_check(nullptr, nullptr, &error)) {
    j["error"] = std::string("gst_init: ") + (error ? error->message : "failed");
    if (error) g_error_free(error);
    return j;
  }
  gchar* v = gst_version_string();
  j["version"] = v;
  g_free(v);
  nlohmann::json present = nlohmann::json::array();
  for (const auto& name : NvidiaGstElements()) {
    if (GstElementFactory* f = gst_element_factory_find(name.c_str())) {
      present.push_back(name);
      gst_object_unref(f);
    }
  }
  j["nvidia_elements"] = present;
  return j;
}

namespace {

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (StartsWith(line, "model name")) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return std::string(Trim(line.substr(colon + 1)));
    }
  }
  return "";
}

}  // namespace

nlohmann::json CollectEnvironment() {
  nlohmann::json env;
  env["schema_version"] = kEnvironmentSchemaVersion;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  env["host"] = host;
  utsname u{};
  if (uname(&u) == 0)
    env["kernel"] = {{"sysname", u.sysname}, {"release", u.release}, {"version", u.version}, {"machine", u.machine}};
  env["cpu"] = {{"model", CpuModel()}, {"count", std::thread::hardware_concurrency()}};
  env["gstreamer"] = ProbeGstreamer();

  nlohmann::json nv;
  nlohmann::json nvml = ProbeNvml();
  if (nvml.value("ok", false)) {
    nv["driver_version"] = nvml["driver_version"];
    nv["gpus"] = nvml["gpus"];
  } else {
    nv["gpus"] = nlohmann::json::array();
    nv["error"] = nvml.value("error", "");
  }
  nlohmann::json cuda = ProbeCudaVersion();
  if (cuda.value("ok", false)) {
    nv["cuda_driver_version"] = cuda["driver_version"];
  } else if (!nv.contains("error")) {
    nv["error"] = cuda.value("error", "");
  }
  env["nvidia"] = nv;
  return env;
}

}  // namespace cg
