// NVDEC (libnvcuvid.so.1), loaded at run time; types from ffnvcodec's dynlink_nvcuvid.h on top of cuda.h.
#pragma once

#include <cuda.h>
#include <ffnvcodec/dynlink_nvcuvid.h>

#include <string>

namespace cg {

struct CuvidApi {
  tcuvidGetDecoderCaps* GetDecoderCaps = nullptr;
  tcuvidCreateDecoder* CreateDecoder = nullptr;
  tcuvidDestroyDecoder* DestroyDecoder = nullptr;
  tcuvidDecodePicture* DecodePicture = nullptr;
  tcuvidMapVideoFrame64* MapVideoFrame = nullptr;
  tcuvidUnmapVideoFrame64* UnmapVideoFrame = nullptr;
  tcuvidCtxLockCreate* CtxLockCreate = nullptr;
  tcuvidCtxLockDestroy* CtxLockDestroy = nullptr;
  tcuvidCreateVideoParser* CreateVideoParser = nullptr;
  tcuvidParseVideoData* ParseVideoData = nullptr;
  tcuvidDestroyVideoParser* DestroyVideoParser = nullptr;
};

bool LoadCuvid(CuvidApi* api, std::string* err);
const CuvidApi* Cuvid(std::string* err);  // process-wide, loaded once

}  // namespace cg
