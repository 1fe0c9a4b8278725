// `crashgrid doctor`: what this machine can run, and for everything it cannot, why. Every probe that touches
// a driver runs in its own forked child (nvidia/probe.h InChild), so doctor never crashes or hangs with a
// broken driver, and this process never holds CUDA, EGL or GStreamer state.
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "nvidia/probe.h"
#include "util/error.h"
#include "util/strings.h"
#include "runtime/workload.h"
#include "workloads/environment.h"

namespace cg {
namespace {

using json = nlohmann::json;

constexpr int kDoctorSchemaVersion = 1;

struct DoctorOptions {
  bool json = false;
  bool fingerprint = false;
  double timeout_s = 30;
};

// ptrace as the supervisor uses it: Yama's policy, then a real PTRACE_SEIZE of a child of ours (containers
// may forbid ptrace through seccomp or a missing CAP_SYS_PTRACE whatever Yama says).
json ProbePtrace() {
  json j;
  std::ifstream scope_file("/proc/sys/kernel/yama/ptrace_scope");
  int scope = -1;
  if (scope_file >> scope) j["ptrace_scope"] = scope;
  else j["ptrace_scope"] = nullptr;  // no Yama: classic ptrace permissions
  pid_t pid = fork();
  if (pid < 0) return {{"ok", false}, {"error", std::string("fork: ") + std::strerror(errno)}};
  if (pid == 0) {
    for (;;) pause();
  }
  long r = ptrace(PTRACE_SEIZE, pid, nullptr, nullptr);
  int e = errno;
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  j["ok"] = r == 0;
  if (r != 0) {
    j["error"] = fmt::format("PTRACE_SEIZE of a child failed: {} ({})", strerrorname_np(e) ? strerrorname_np(e) : "?",
                             std::strerror(e));
    if (scope == 3) j["error"] = "ptrace is disabled (kernel.yama.ptrace_scope = 3)";
  }
  return j;
}

// The container this process runs in, "" when none is seen: `container=` in the environment (podman,
// systemd-nspawn and LXC set it), then the files docker and podman leave in every container, then PID 1's
// cgroup. Containers are where ptrace is most often missing (docker without --cap-add SYS_PTRACE under
// Yama, a seccomp profile of the orchestrator's), so doctor names the flag that gives it back.
std::string DetectContainer() {
  if (const char* c = std::getenv("container"); c && *c) return c;
  if (access("/.dockerenv", F_OK) == 0) return "docker";
  if (access("/run/.containerenv", F_OK) == 0) return "podman";
  std::ifstream cgroup("/proc/1/cgroup");
  std::string line;
  while (std::getline(cgroup, line)) {
    if (line.find("/docker") != std::string::npos) return "docker";
    if (line.find("/kubepods") != std::string::npos) return "kubernetes";
  }
  return "";
}

// What to do when ptrace is not permitted, for this machine.
std::string PtraceAdvice(const std::string& container, const json& scope) {
  if (!container.empty())
    return fmt::format("in a {} container: run it with --cap-add SYS_PTRACE (docker/podman run), or sweep with "
                       "--capture handler",
                       container);
  if (scope.is_number() && scope.get<int>() >= 2)
    return "kernel.yama.ptrace_scope >= 2 needs CAP_SYS_PTRACE (sudo sysctl kernel.yama.ptrace_scope=1), or sweep "
           "with --capture handler";
  return "sweep with --capture handler";
}

// Can `name` start here? Validate + Init with default parameters and one thread, in a child.
json ProbeWorkload(const std::string& name, double timeout_s) {
  return InChild(
      [&]() -> json {
        auto w = CreateWorkload(name);
        if (!w) return {{"ok", false}, {"error", "unknown workload"}};
        std::string err;
        Params params;
        if (!w->Validate(params, 1, &err) || !w->Init(params, 1, &err)) return {{"ok", false}, {"error", err}};
        json j = {{"ok", true}, {"detail", w->Detail()}};
        w->Shutdown();
        return j;
      },
      timeout_s);
}

json Doctor(const DoctorOptions& o) {
  json d;
  d["schema_version"] = kDoctorSchemaVersion;
  d["environment"] = InChild(CollectEnvironment, o.timeout_s);
  json nv;
  nv["cuda"] = InChild(ProbeCudaDevices, o.timeout_s);
  nv["nvenc"] = InChild(ProbeNvenc, o.timeout_s);
  nv["nvdec"] = InChild(ProbeNvdec, o.timeout_s);
  nv["egl"] = InChild(ProbeEgl, o.timeout_s);
  d["nvidia"] = nv;
  d["capture"] = {{"ptrace", ProbePtrace()}, {"handler", {{"ok", true}}}, {"container", DetectContainer()}};
  if (!d["capture"]["ptrace"].value("ok", false))
    d["capture"]["ptrace"]["advice"] = PtraceAdvice(d["capture"]["container"], d["capture"]["ptrace"]["ptrace_scope"]);
  json wl = json::array();
  for (const auto& name : WorkloadNames()) {
    json p = ProbeWorkload(name, o.timeout_s);
    json w = {{"name", name}, {"runnable", p.value("ok", false)}};
    if (p.value("ok", false)) w["detail"] = p.value("detail", "");
    else w["reason"] = p.value("error", "unknown");
    wl.push_back(w);
  }
  d["workloads"] = wl;
  return d;
}

std::string YesNo(const json& j, const std::string& yes) {
  if (j.value("ok", false)) return "yes" + (yes.empty() ? "" : ": " + yes);
  return "no: " + j.value("error", "unknown");
}

std::string RenderDoctor(const json& d) {
  std::string out;
  auto row = [&](const char* what, const std::string& text) { out += fmt::format("{:<11} {}\n", what, text); };
  const json& env = d["environment"];
  if (env.contains("error") && !env.contains("host")) {
    row("machine", "unknown: " + env.value("error", ""));
  } else {
    const json& k = env.value("kernel", json::object());
    const json& cpu = env.value("cpu", json::object());
    row("machine", fmt::format("{}, {} {} {}, {} x {}", env.value("host", "?"), k.value("sysname", ""),
                               k.value("release", ""), k.value("machine", ""), cpu.value("count", 0),
                               cpu.value("model", "?")));
  }
  const json& nvenv = env.value("nvidia", json::object());
  if (nvenv.contains("driver_version")) {
    std::vector<std::string> gpus;
    for (const auto& g : nvenv["gpus"])
      gpus.push_back(fmt::format("{} ({:.0f} GiB)", g.value("name", "?"),
                                 static_cast<double>(g.value("memory_bytes", 0ULL)) / (1ULL << 30)));
    row("driver", fmt::format("NVIDIA {} (NVML); GPUs: {}", nvenv.value("driver_version", "?"),
                              gpus.empty() ? "none" : Join(gpus, ", ")));
    // One row per GPU, by the index `sweep --gpus` takes, with the UUID each trial records.
    int index = 0;
    for (const auto& g : nvenv["gpus"]) {
      std::string label = fmt::format("GPU {}", index);
      row(label.c_str(), fmt::format("{} {} (sweep --gpus {})", g.value("name", "?"), g.value("uuid", ""), index));
      index++;
    }
  } else {
    row("driver", "none: " + nvenv.value("error", "NVML unavailable"));
  }
  const json& nv = d["nvidia"];
  const json& cuda = nv["cuda"];
  if (cuda.value("ok", false)) {
    std::vector<std::string> devs;
    for (const auto& dev : cuda["devices"])
      devs.push_back(fmt::format("{} (compute {})", dev.value("name", "?"), dev.value("compute_capability", "?")));
    row("CUDA", fmt::format("yes: driver API {}; {}", nvenv.value("cuda_driver_version", "?"), Join(devs, ", ")));
  } else {
    row("CUDA", "no: " + cuda.value("error", "unknown"));
  }
  row("NVENC", YesNo(nv["nvenc"], nv["nvenc"].contains("api_max") ? "API " + nv["nvenc"].value("api_max", "") : ""));
  std::vector<std::string> codecs;
  if (nv["nvdec"].contains("codecs"))
    for (const auto& [name, c] : nv["nvdec"]["codecs"].items())
      codecs.push_back(fmt::format("{} {}", name, c.value("supported", false) ? "yes" : "no"));
  row("NVDEC", nv["nvdec"].value("ok", false) ? "yes: " + Join(codecs, ", ")
                                               : "no: " + nv["nvdec"].value("error", "unknown") +
                                                     (codecs.empty() ? "" : " (" + Join(codecs, ", ") + ")"));
  const json& egl = nv["egl"];
  std::vector<std::string> exts;
  if (egl.contains("stream_extensions"))
    for (const auto& e : egl["stream_extensions"]) exts.push_back(e.get<std::string>());
  row("EGL", YesNo(egl, egl.value("ok", false) ? fmt::format("device platform, CUDA device {}; {}",
                                                             egl.value("cuda_device", -1), Join(exts, " "))
                                               : ""));
  const json& gst = env.value("gstreamer", json::object());
  if (gst.contains("version")) {
    std::vector<std::string> els;
    for (const auto& e : gst["nvidia_elements"]) els.push_back(e.get<std::string>());
    row("GStreamer", fmt::format("{}; NVIDIA elements: {}", gst.value("version", "?"),
                                 els.empty() ? "none" : Join(els, ", ")));
  } else {
    row("GStreamer", "no: " + gst.value("error", "unknown"));
  }
  const json& pt = d["capture"]["ptrace"];
  std::string scope = pt["ptrace_scope"].is_null() ? "no Yama" : fmt::format("ptrace_scope {}", pt["ptrace_scope"].get<int>());
  std::string container = d["capture"].value("container", "");
  if (!container.empty()) scope += ", in a " + container + " container";
  if (pt.value("ok", false)) {
    row("capture", fmt::format("attach (default) yes, trace yes, handler yes ({})", scope));
  } else {
    // Without ptrace the default still runs: the agent records the faulting thread itself (no other threads,
    // no stacks at a hang). In a container, --cap-add SYS_PTRACE gives the full capture back.
    row("capture", fmt::format("attach and trace no: {} ({}); crashes are recorded by --capture handler instead "
                               "(faulting thread only; {})",
                               pt.value("error", ""), scope, pt.value("advice", "")));
  }
  out += "\nworkloads:\n";
  for (const auto& w : d["workloads"]) {
    if (w.value("runnable", false)) {
      std::string detail = w.value("detail", "");
      out += fmt::format("  {:<16} runnable{}\n", w.value("name", "?"), detail.empty() ? "" : " (" + detail + ")");
    } else {
      out += fmt::format("  {:<16} cannot run: {}\n", w.value("name", "?"), w.value("reason", "?"));
    }
  }
  return out;
}

}  // namespace

int CmdDoctor(const Args& args) {
  DoctorOptions o;
  CLI::App app("What this machine can run (GPUs, driver, CUDA, NVENC, NVDEC, EGL streams, GStreamer's NVIDIA "
               "elements, capture methods) and, for each workload, why not.",
               "crashgrid doctor");
  app.add_flag("--json", o.json, "print the facts as JSON (schema_version 1)");
  app.add_flag("--fingerprint", o.fingerprint,
               "print only the environment fingerprint stored with every run (quick: opens no GPU session)");
  app.add_option("--timeout", o.timeout_s, "seconds each probe may take before it is killed (default 30)")
      ->check(CLI::Range(1.0, 600.0));
  int rc = ParseCli(app, args);
  if (rc >= 0) return rc;
  if (o.fingerprint) {
    json env = InChild(CollectEnvironment, o.timeout_s);
    std::string text = env.dump(o.json ? -1 : 2, ' ', false, json::error_handler_t::replace) + "\n";
    std::fputs(text.c_str(), stdout);
    return kExitOk;
  }
  json d = Doctor(o);
  // Device, driver and element names come from libraries and probes: replaced if not UTF-8, controls visible.
  std::string text = o.json ? d.dump(2, ' ', false, json::error_handler_t::replace) + "\n"
                            : TerminalText(RenderDoctor(d));
  std::fputs(text.c_str(), stdout);
  return kExitOk;
}

}  // namespace cg
