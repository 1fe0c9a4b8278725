// NVENC (libnvidia-encode.so.1), loaded at run time. Its entry points come as a function table filled by
// NvEncodeAPICreateInstance, for the API version in ffnvcodec's nvEncodeAPI.h (NVENCAPI_VERSION).
#pragma once

#include <ffnvcodec/nvEncodeAPI.h>

#include <cstdint>
#include <string>

namespace cg {

struct NvEncApi {
  NV_ENCODE_API_FUNCTION_LIST fn{};
  uint32_t driver_max_version = 0;  // NvEncodeAPIGetMaxSupportedVersion: (major << 4) | minor
};

// False with *err when the library is missing, or the driver supports an older API than the header's.
bool LoadNvEnc(NvEncApi* api, std::string* err);
const NvEncApi* NvEnc(std::string* err);  // process-wide, loaded once

// "nvEncOpenEncodeSessionEx: NV_ENC_ERR_UNSUPPORTED_DEVICE (2)". False unless s == NV_ENC_SUCCESS.
bool NvEncOk(NVENCSTATUS s, const char* what, std::string* err);

}  // namespace cg
