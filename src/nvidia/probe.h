// What this machine's NVIDIA stack can do, asked the way the workloads ask it. Each probe returns a JSON
// object with "ok" (bool) and, when false, "error" naming the call and the error by name. Probes that touch
// the driver (cuInit, sessions, EGL) should run in a child process (InChild) so the caller's process never
// holds CUDA or EGL state and survives a driver that crashes.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace cg {

nlohmann::json ProbeNvml();        // driver_version, cuda_driver_version, gpus[{name, uuid, memory_bytes}]
nlohmann::json ProbeCudaVersion(); // loads libcuda, cuDriverGetVersion only (no cuInit): driver_version
nlohmann::json ProbeCudaDevices(); // cuInit, devices[{name, compute_capability, memory_bytes}]
nlohmann::json ProbeNvenc();       // opens and destroys one H.264-capable session on device 0
nlohmann::json ProbeNvdec();       // cuvidGetDecoderCaps for H.264, HEVC, VP9, AV1 (8-bit 4:2:0)
nlohmann::json ProbeEgl();         // EGL devices, the CUDA one, device-platform display, stream extensions

// Runs `fn` in a forked child and returns what it returned. A child that crashes or outlives `timeout_s`
// (then killed) yields {"ok": false, "error": "probe crashed: SIGSEGV" / "probe hung for N s"}.
nlohmann::json InChild(const std::function<nlohmann::json()>& fn, double timeout_s);

// "crashgrid.version" of the `cuDriverGetVersion` integer: 13000 -> "13.0".
std::string CudaVersionString(int v);

}  // namespace cg
