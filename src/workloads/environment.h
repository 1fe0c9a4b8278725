// The environment fingerprint stored with every run: what machine, kernel, GStreamer and NVIDIA stack the
// trials ran on, so results from two machines or drivers are never silently compared. The sweep gets it by
// running `crashgrid doctor --json --fingerprint` as a subprocess, so GStreamer and CUDA never load into
// the sweep process itself.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cg {

constexpr int kEnvironmentSchemaVersion = 1;

// The NVIDIA GStreamer elements crashgrid looks for (DeepStream and the nvcodec plugin).
const std::vector<std::string>& NvidiaGstElements();

// Quick and side-effect free: no GPU session or context is opened (NVML and cuDriverGetVersion only).
// Keys: schema_version, host, kernel{sysname,release,version,machine}, cpu{model,count}, gstreamer{version,
// nvidia_elements[], error?}, nvidia{driver_version, gpus[], cuda_driver_version, error?}.
nlohmann::json CollectEnvironment();

// GStreamer's version and which of NvidiaGstElements() the registry has; initialises GStreamer.
nlohmann::json ProbeGstreamer();

}  // namespace cg
