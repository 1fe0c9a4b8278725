#include "nvidia/probe.h"

#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "nvidia/nvml.h"

namespace cg {
namespace {

bool LibraryPresent(const char* name) {
  void* h = dlopen(name, RTLD_LAZY | RTLD_LOCAL);
  if (h) dlclose(h);
  return h != nullptr;
}

TEST(InChild, ReturnsTheChildsJson) {
  pid_t parent = getpid();
  nlohmann::json j = InChild([&] { return nlohmann::json{{"ok", true}, {"other_process", getpid() != parent}}; }, 10);
  EXPECT_TRUE(j.value("ok", false));
  EXPECT_TRUE(j.value("other_process", false));
}

TEST(InChild, ACrashingProbeBecomesAnErrorNamingTheSignal) {
  nlohmann::json j = InChild(
      [] {
        raise(SIGSEGV);
        return nlohmann::json{{"ok", true}};
      },
      10);
  EXPECT_FALSE(j.value("ok", true));
  EXPECT_EQ(j.value("error", ""), "probe crashed: SIGSEGV (11)");
}

TEST(InChild, AHangingProbeIsKilledAtItsTimeout) {
  nlohmann::json j = InChild(
      [] {
        for (;;) pause();
        return nlohmann::json{};
      },
      0.3);
  EXPECT_FALSE(j.value("ok", true));
  EXPECT_NE(j.value("error", "").find("hung"), std::string::npos) << j.dump();
}

TEST(NvidiaLoad, MissingDriverIsNamedNotFatal) {
  if (LibraryPresent("libcuda.so.1")) GTEST_SKIP() << "this machine has an NVIDIA driver";
  nlohmann::json v = ProbeCudaVersion();
  EXPECT_FALSE(v.value("ok", true));
  EXPECT_EQ(v.value("error", "").rfind("libcuda.so.1 not found: no NVIDIA driver on this machine (libcuda.so.1: ", 0),
            0u)
      << v.dump();
}

TEST(NvidiaLoad, MissingNvmlIsNamed) {
  if (LibraryPresent("libnvidia-ml.so.1")) GTEST_SKIP() << "this machine has NVML";
  NvmlInfo info;
  std::string err;
  EXPECT_FALSE(QueryNvml(&info, &err));
  EXPECT_EQ(err.rfind("libnvidia-ml.so.1 not found", 0), 0u) << err;
}

TEST(NvidiaLoad, EglWithoutAnNvidiaDeviceSaysSo) {
  if (LibraryPresent("libcuda.so.1")) GTEST_SKIP() << "this machine has an NVIDIA driver";
  nlohmann::json j = InChild(ProbeEgl, 30);
  EXPECT_FALSE(j.value("ok", true)) << j.dump();
  EXPECT_FALSE(j.value("error", "").empty()) << j.dump();
}

TEST(CudaVersionString, SplitsMajorAndMinor) {
  EXPECT_EQ(CudaVersionString(13000), "13.0");
  EXPECT_EQ(CudaVersionString(12040), "12.4");
  EXPECT_EQ(CudaVersionString(11080), "11.8");
}

}  // namespace
}  // namespace cg
