#include "nvidia/nvcuvid_api.h"

#include <mutex>

#include "nvidia/dl.h"

namespace cg {

bool LoadCuvid(CuvidApi* api, std::string* err) {
  DlLibrary lib;
  std::string dlerr;
  if (!lib.Open({"libnvcuvid.so.1", "libnvcuvid.so"}, &dlerr)) {
    *err = "libnvcuvid.so.1 not found: no NVIDIA video decode driver on this machine (" + dlerr + ")";
    return false;
  }
  struct Entry {
    void** slot;
    const char* name;
  };
  const Entry entries[] = {
      {reinterpret_cast<void**>(&api->GetDecoderCaps), "cuvidGetDecoderCaps"},
      {reinterpret_cast<void**>(&api->CreateDecoder), "cuvidCreateDecoder"},
      {reinterpret_cast<void**>(&api->DestroyDecoder), "cuvidDestroyDecoder"},
      {reinterpret_cast<void**>(&api->DecodePicture), "cuvidDecodePicture"},
      {reinterpret_cast<void**>(&api->MapVideoFrame), "cuvidMapVideoFrame64"},
      {reinterpret_cast<void**>(&api->UnmapVideoFrame), "cuvidUnmapVideoFrame64"},
      {reinterpret_cast<void**>(&api->CtxLockCreate), "cuvidCtxLockCreate"},
      {reinterpret_cast<void**>(&api->CtxLockDestroy), "cuvidCtxLockDestroy"},
      {reinterpret_cast<void**>(&api->CreateVideoParser), "cuvidCreateVideoParser"},
      {reinterpret_cast<void**>(&api->ParseVideoData), "cuvidParseVideoData"},
      {reinterpret_cast<void**>(&api->DestroyVideoParser), "cuvidDestroyVideoParser"},
  };
  for (const Entry& e : entries) {
    *e.slot = lib.Symbol(e.name);
    if (!*e.slot) {
      *err = lib.name() + " lacks " + e.name + ": the NVIDIA driver is too old";
      return false;
    }
  }
  static DlLibrary* keep = new DlLibrary(std::move(lib));
  (void)keep;
  return true;
}

const CuvidApi* Cuvid(std::string* err) {
  static std::once_flag once;
  static CuvidApi api;
  static bool ok = false;
  static std::string load_err;
  std::call_once(once, [] { ok = LoadCuvid(&api, &load_err); });
  if (!ok) {
    if (err) *err = load_err;
    return nullptr;
  }
  return &api;
}

}  // namespace cg
