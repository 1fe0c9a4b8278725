#include "nvidia/nvenc_api.h"

#include <fmt/format.h>

#include <mutex>

#include "nvidia/dl.h"
#include "nvidia/errors.h"

namespace cg {

bool NvEncOk(NVENCSTATUS s, const char* what, std::string* err) {
  if (s == NV_ENC_SUCCESS) return true;
  if (err) *err = std::string(what) + ": " + NvEncStatusName(static_cast<int>(s));
  return false;
}

bool LoadNvEnc(NvEncApi* api, std::string* err) {
  DlLibrary lib;
  std::string dlerr;
  if (!lib.Open({"libnvidia-encode.so.1", "libnvidia-encode.so"}, &dlerr)) {
    *err = "libnvidia-encode.so.1 not found: no NVIDIA video encode driver on this machine (" + dlerr + ")";
    return false;
  }
  NVENCSTATUS (*get_max)(uint32_t*) = nullptr;
  NVENCSTATUS (*create)(NV_ENCODE_API_FUNCTION_LIST*) = nullptr;
  if (!lib.Get("NvEncodeAPIGetMaxSupportedVersion", &get_max) || !lib.Get("NvEncodeAPICreateInstance", &create)) {
    *err = lib.name() + " lacks NvEncodeAPICreateInstance";
    return false;
  }
  if (!NvEncOk(get_max(&api->driver_max_version), "NvEncodeAPIGetMaxSupportedVersion", err)) return false;
  const uint32_t wanted = (NVENCAPI_MAJOR_VERSION << 4) | NVENCAPI_MINOR_VERSION;
  if (api->driver_max_version < wanted) {
    *err = fmt::format("the NVIDIA driver supports NVENC API {}.{}, crashgrid needs {}.{}: update the driver",
                       api->driver_max_version >> 4, api->driver_max_version & 0xf, NVENCAPI_MAJOR_VERSION,
                       NVENCAPI_MINOR_VERSION);
    return false;
  }
  api->fn = {};
  api->fn.version = NV_ENCODE_API_FUNCTION_LIST_VER;
  if (!NvEncOk(create(&api->fn), "NvEncodeAPICreateInstance", err)) return false;
  static DlLibrary* keep = new DlLibrary(std::move(lib));
  (void)keep;
  return true;
}

const NvEncApi* NvEnc(std::string* err) {
  static std::once_flag once;
  static NvEncApi api;
  static bool ok = false;
  static std::string load_err;
  std::call_once(once, [] { ok = LoadNvEnc(&api, &load_err); });
  if (!ok) {
    if (err) *err = load_err;
    return nullptr;
  }
  return &api;
}

}  // namespace cg
