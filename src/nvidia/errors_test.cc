#include "nvidia/errors.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cg {
namespace {

TEST(NvidiaErrors, CudaCodesReadAsEnumeratorAndNumber) {
  EXPECT_EQ(CudaErrorName(702), "CUDA_ERROR_LAUNCH_TIMEOUT (702)");
  EXPECT_EQ(CudaErrorName(100), "CUDA_ERROR_NO_DEVICE (100)");
  EXPECT_EQ(CudaErrorName(0), "CUDA_SUCCESS (0)");
  EXPECT_EQ(CudaErrorName(2), "CUDA_ERROR_OUT_OF_MEMORY (2)");
  EXPECT_EQ(CudaErrorName(3), "CUDA_ERROR_NOT_INITIALIZED (3)");
  EXPECT_EQ(CudaErrorName(201), "CUDA_ERROR_INVALID_CONTEXT (201)");
  EXPECT_EQ(CudaErrorName(400), "CUDA_ERROR_INVALID_HANDLE (400)");
  EXPECT_EQ(CudaErrorName(999), "CUDA_ERROR_UNKNOWN (999)");
}

TEST(NvidiaErrors, UnknownCodesStillShowTheNumber) {
  EXPECT_EQ(CudaErrorName(123456), "unknown CUDA error (123456)");
  EXPECT_EQ(NvEncStatusName(4242), "unknown NVENC status (4242)");
  EXPECT_EQ(EglErrorName(0x1234), "unknown EGL error (0x1234)");
  EXPECT_EQ(NvmlReturnName(77), "unknown NVML return (77)");
  EXPECT_EQ(CudaErrorEnumName(123456), nullptr);
}

TEST(NvidiaErrors, NvencSessionLimitAndNoDeviceHaveTheirNames) {
  EXPECT_EQ(NvEncStatusName(0), "NV_ENC_SUCCESS (0)");
  EXPECT_EQ(NvEncStatusName(1), "NV_ENC_ERR_NO_ENCODE_DEVICE (1)");
  EXPECT_EQ(NvEncStatusName(2), "NV_ENC_ERR_UNSUPPORTED_DEVICE (2)");
  EXPECT_EQ(NvEncStatusName(10), "NV_ENC_ERR_OUT_OF_MEMORY (10)");
  EXPECT_EQ(NvEncStatusName(8), "NV_ENC_ERR_INVALID_PARAM (8)");
}

TEST(NvidiaErrors, EglCodesAreHex) {
  EXPECT_EQ(EglErrorName(0x3002), "EGL_BAD_ACCESS (0x3002)");
  EXPECT_EQ(EglErrorName(0x3000), "EGL_SUCCESS (0x3000)");
  EXPECT_EQ(EglErrorName(0x300C), "EGL_BAD_PARAMETER (0x300c)");
  EXPECT_EQ(EglErrorName(0x321B), "EGL_BAD_STREAM_KHR (0x321b)");
  EXPECT_EQ(EglErrorName(0x321C), "EGL_BAD_STATE_KHR (0x321c)");
}

TEST(NvidiaErrors, NvmlCodes) {
  EXPECT_EQ(NvmlReturnName(9), "NVML_ERROR_DRIVER_NOT_LOADED (9)");
  EXPECT_EQ(NvmlReturnName(999), "NVML_ERROR_UNKNOWN (999)");
}

// Each table maps every code to one name with the family's prefix, and no two codes share a name: a table
// typed by hand (or a duplicated line) would break this.
template <typename Fn>
void ExpectTableConsistent(Fn name_of, int lo, int hi, const std::string& prefix, size_t min_entries) {
  std::set<std::string> seen;
  size_t entries = 0;
  for (int code = lo; code <= hi; ++code) {
    const char* n = name_of(code);
    if (!n) continue;
    ++entries;
    EXPECT_EQ(std::string(n).rfind(prefix, 0), 0u) << code << " -> " << n;
    EXPECT_TRUE(seen.insert(n).second) << n << " names two codes";
  }
  EXPECT_GE(entries, min_entries) << prefix;
}

TEST(NvidiaErrors, TablesAreCompleteAndUnambiguous) {
  ExpectTableConsistent(CudaErrorEnumName, 0, 1000, "CUDA_", 90);
  ExpectTableConsistent(NvEncStatusEnumName, 0, 100, "NV_ENC_", 25);
  ExpectTableConsistent(EglErrorEnumName, 0x3000, 0x3400, "EGL_", 18);
  ExpectTableConsistent(NvmlReturnEnumName, 0, 1000, "NVML_", 30);
}

}  // namespace
}  // namespace cg
