// NVIDIA and EGL status codes by name, the way every error crashgrid reports names them:
// "CUDA_ERROR_LAUNCH_TIMEOUT (702)", "NV_ENC_ERR_OUT_OF_MEMORY (10)", "EGL_BAD_ACCESS (0x3002)".
// Free of SDK types, so any module may include it.
#pragma once

#include <string>

namespace cg {

// The bare enumerator name, or nullptr when the code is not in the table.
const char* CudaErrorEnumName(int code);
const char* NvEncStatusEnumName(int code);
const char* EglErrorEnumName(int code);
const char* NvmlReturnEnumName(int code);

// "NAME (code)"; an unknown code reads "unknown CUDA error (12345)" etc.
std::string CudaErrorName(int code);
std::string NvEncStatusName(int code);
std::string EglErrorName(int code);  // code in hex: EGL's own convention
std::string NvmlReturnName(int code);

}  // namespace cg
