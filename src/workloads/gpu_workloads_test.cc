// The GPU workloads on a machine without a GPU (CI): parameter validation, clean "could not start" with the
// reason, and what the shipped H.264 stream contains. On a machine with a driver the no-GPU tests skip.
#include <dlfcn.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <map>
#include <string>

#include "runtime/workload.h"
#include "workloads/environment.h"
#include "workloads/nvdec/tiny_h264.h"

namespace cg {
namespace {

bool HaveDriver() {
  void* h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (h) dlclose(h);
  return h != nullptr;
}

std::string ValidateError(const std::string& workload, std::map<std::string, std::string> params, int threads = 2) {
  auto w = CreateWorkload(workload);
  EXPECT_TRUE(w) << workload;
  if (!w) return "";
  std::string err;
  bool ok = w->Validate(Params(std::move(params)), threads, &err);
  return ok ? "(valid)" : err;
}

const char* const kGpuWorkloads[] = {"cuda", "eglstream", "nvenc", "nvdec"};

TEST(GpuWorkloads, AreRegisteredAndNeedAGpu) {
  for (const char* name : kGpuWorkloads) {
    auto w = CreateWorkload(name);
    ASSERT_TRUE(w) << name;
    EXPECT_TRUE(w->info().needs_gpu) << name;
    EXPECT_FALSE(w->info().units_name.empty()) << name;
    std::string err;
    EXPECT_TRUE(w->Validate(Params(), 1, &err)) << name << ": defaults must be valid: " << err;
  }
}

TEST(EglStreamWorkload, DeclaresTheSamplePhasesInCallOrder) {
  auto w = CreateWorkload("eglstream");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->info().phases,
            (std::vector<std::string>{"setup", "connect", "present", "acquire", "release", "return", "disconnect",
                                      "teardown"}));
  EXPECT_EQ(w->info().units_name, "frames");
}

TEST(EglStreamWorkload, RejectsABadLayoutWithTheFix) {
  EXPECT_EQ(ValidateError("eglstream", {{"layout", "fanot"}}),
            "parameter 'layout' cannot be 'fanot', did you mean 'fanout'? (use one of: paired, fanout)");
}

TEST(EglStreamWorkload, RejectsABadContextPolicy) {
  EXPECT_EQ(ValidateError("eglstream", {{"context", "global"}}),
            "parameter 'context' cannot be 'global' (use one of: shared, per-thread)");
}

TEST(EglStreamWorkload, RejectsStreamCountsOutOfRange) {
  EXPECT_EQ(ValidateError("eglstream", {{"streams", "0"}}),
            "parameter 'streams' must be an integer from 1 to 64, not '0'");
  EXPECT_EQ(ValidateError("eglstream", {{"streams", "many"}}),
            "parameter 'streams' must be an integer from 1 to 64, not 'many'");
  EXPECT_EQ(ValidateError("eglstream", {{"streams", "64"}, {"layout", "fanout"}, {"context", "per-thread"}}),
            "(valid)");
}

TEST(EglStreamWorkload, RejectsTinyFrames) {
  EXPECT_EQ(ValidateError("eglstream", {{"width", "8"}}),
            "parameter 'width' must be an integer from 16 to 8192, not '8'");
}

TEST(CudaWorkload, ValidatesItsParameters) {
  EXPECT_EQ(ValidateError("cuda", {{"sync", "maybe"}}), "parameter 'sync' cannot be 'maybe' (use one of: on, off)");
  EXPECT_EQ(ValidateError("cuda", {{"context", "per-threads"}}),
            "parameter 'context' cannot be 'per-threads', did you mean 'per-thread'? (use one of: shared, "
            "per-thread)");
  EXPECT_EQ(ValidateError("cuda", {{"allocs", "0"}}), "parameter 'allocs' must be an integer from 1 to 1024, not '0'");
}

TEST(NvEncAndNvDecWorkloads, ValidateTheirParameters) {
  EXPECT_EQ(ValidateError("nvenc", {{"frames", "0"}}),
            "parameter 'frames' must be an integer from 1 to 10000, not '0'");
  EXPECT_EQ(ValidateError("nvdec", {{"repeat", "-1"}}),
            "parameter 'repeat' must be an integer from 1 to 1000, not '-1'");
}

TEST(GpuWorkloads, CannotStartWithoutADriverAndSayWhy) {
  if (HaveDriver()) GTEST_SKIP() << "this machine has an NVIDIA driver";
  for (const char* name : kGpuWorkloads) {
    auto w = CreateWorkload(name);
    ASSERT_TRUE(w);
    std::string err;
    EXPECT_FALSE(w->Init(Params(), 2, &err)) << name;
    EXPECT_EQ(err.rfind("libcuda.so.1 not found: no NVIDIA driver on this machine", 0), 0u) << name << ": " << err;
  }
}

// The stream really is 8 H.264 pictures behind one SPS/PPS: what the nvdec workload counts frames by. x264
// cuts each picture into several slices, so a picture starts at a slice whose first_mb_in_slice is 0 (the
// ue(v) code "1": the top bit of the byte after the NAL header).
TEST(TinyH264, IsAnAnnexBStreamWithSpsPpsAndEightPictures) {
  ASSERT_GT(kTinyH264Size, 100u);
  std::map<int, int> nal_types;
  int pictures = 0, idr_pictures = 0;
  for (size_t i = 0; i + 4 < kTinyH264Size; ++i) {
    if (kTinyH264[i] == 0 && kTinyH264[i + 1] == 0 && kTinyH264[i + 2] == 1) {
      int type = kTinyH264[i + 3] & 0x1f;
      ++nal_types[type];
      if ((type == 1 || type == 5) && (kTinyH264[i + 4] & 0x80)) {
        ++pictures;
        if (type == 5) ++idr_pictures;
      }
      i += 2;
    }
  }
  EXPECT_EQ(kTinyH264[0], 0);
  EXPECT_GE(nal_types[7], 1) << "SPS";
  EXPECT_GE(nal_types[8], 1) << "PPS";
  EXPECT_EQ(idr_pictures, 1);
  EXPECT_EQ(pictures, kTinyH264Frames);
}

TEST(Environment, FingerprintNamesThisMachine) {
  nlohmann::json env = CollectEnvironment();
  EXPECT_EQ(env.value("schema_version", 0), kEnvironmentSchemaVersion);
  utsname u{};
  ASSERT_EQ(uname(&u), 0);
  EXPECT_EQ(env["kernel"].value("release", ""), u.release);
  EXPECT_GT(env["cpu"].value("count", 0), 0);
  EXPECT_EQ(env["gstreamer"].value("version", "").rfind("GStreamer ", 0), 0u) << env.dump();
  EXPECT_TRUE(env["gstreamer"]["nvidia_elements"].is_array());
  EXPECT_TRUE(env["nvidia"]["gpus"].is_array());
  if (!HaveDriver()) {
    EXPECT_NE(env["nvidia"].value("error", "").find("not found"), std::string::npos) << env.dump();
  }
}

// The built binary, as a trial runs it: a GPU workload exits 4 ("cannot run here") with one reason line.
std::string Binary() { return std::string(CRASHGRID_BINARY_DIR) + "/crashgrid"; }

int RunBinary(const std::string& args, std::string* out) {
  std::string cmd = Binary() + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out->append(buf.data(), n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(CrashgridBinary, GpuWorkloadsExitCannotRunWithTheReason) {
  if (HaveDriver()) GTEST_SKIP() << "this machine has an NVIDIA driver";
  if (access(Binary().c_str(), X_OK) != 0) GTEST_SKIP() << "crashgrid is not built in " << CRASHGRID_BINARY_DIR;
  for (const char* name : kGpuWorkloads) {
    std::string out;
    int rc = RunBinary(std::string("run ") + name + " --threads 2 --duration 1s", &out);
    EXPECT_EQ(rc, 4) << name << ": " << out;
    EXPECT_NE(out.find("libcuda.so.1 not found"), std::string::npos) << name << ": " << out;
  }
}

TEST(CrashgridBinary, DoctorJsonSaysWhyEachWorkloadCannotRun) {
  if (HaveDriver()) GTEST_SKIP() << "this machine has an NVIDIA driver";
  if (access(Binary().c_str(), X_OK) != 0) GTEST_SKIP() << "crashgrid is not built in " << CRASHGRID_BINARY_DIR;
  std::string out;
  std::string cmd = Binary() + " doctor --json 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_TRUE(p);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  ASSERT_EQ(pclose(p), 0);
  nlohmann::json d = nlohmann::json::parse(out);
  EXPECT_EQ(d.value("schema_version", 0), 1);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& w : d["workloads"]) by_name[w.value("name", "")] = w;
  for (const char* name : kGpuWorkloads) {
    ASSERT_TRUE(by_name.count(name)) << name;
    EXPECT_FALSE(by_name[name].value("runnable", true)) << name;
    EXPECT_NE(by_name[name].value("reason", "").find("libcuda.so.1 not found"), std::string::npos) << name;
  }
  ASSERT_TRUE(by_name.count("reference-race"));
  EXPECT_TRUE(by_name["reference-race"].value("runnable", false)) << by_name["reference-race"].dump();
  EXPECT_FALSE(d["nvidia"]["cuda"].value("ok", true));
  EXPECT_TRUE(d["capture"]["handler"].value("ok", false));
  EXPECT_TRUE(d["capture"]["ptrace"].contains("ok"));
}

TEST(CrashgridBinary, FingerprintIsJsonOnly) {
  if (access(Binary().c_str(), X_OK) != 0) GTEST_SKIP() << "crashgrid is not built in " << CRASHGRID_BINARY_DIR;
  std::string out;
  std::string cmd = Binary() + " doctor --json --fingerprint 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_TRUE(p);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  ASSERT_EQ(pclose(p), 0);
  nlohmann::json env = nlohmann::json::parse(out);
  EXPECT_EQ(env.value("schema_version", 0), kEnvironmentSchemaVersion);
  EXPECT_TRUE(env.contains("host"));
  EXPECT_TRUE(env.contains("nvidia"));
}

}  // namespace
}  // namespace cg
