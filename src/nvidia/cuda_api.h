// The CUDA driver API (libcuda.so.1), loaded at run time. Include only where /usr/local/cuda/include is on
// the include path (cg_nvidia, cg_workloads); only the header's types are used, libcuda is never linked.
//
// Members are named without the `cu` prefix on purpose: cuda.h #defines the plain names to versioned ones
// (cuCtxCreate -> cuCtxCreate_v4, cuMemAlloc -> cuMemAlloc_v2), which would rename a member called that.
#pragma once

#include <cuda.h>
#include <cudaEGL.h>

#include <string>

namespace cg {

struct CudaApi {
  CUresult (*Init)(unsigned int flags) = nullptr;
  CUresult (*DriverGetVersion)(int* version) = nullptr;
  CUresult (*GetErrorName)(CUresult error, const char** name) = nullptr;
  CUresult (*DeviceGetCount)(int* count) = nullptr;
  CUresult (*DeviceGet)(CUdevice* device, int ordinal) = nullptr;
  CUresult (*DeviceGetName)(char* name, int len, CUdevice dev) = nullptr;
  CUresult (*DeviceGetAttribute)(int* pi, CUdevice_attribute attrib, CUdevice dev) = nullptr;
  CUresult (*DeviceTotalMem)(size_t* bytes, CUdevice dev) = nullptr;
  // cuCtxCreate_v2: the (flags, device) form every driver since CUDA 4 exports.
  CUresult (*CtxCreate)(CUcontext* pctx, unsigned int flags, CUdevice dev) = nullptr;
  CUresult (*CtxDestroy)(CUcontext ctx) = nullptr;
  CUresult (*CtxSetCurrent)(CUcontext ctx) = nullptr;
  CUresult (*CtxGetCurrent)(CUcontext* pctx) = nullptr;
  CUresult (*CtxPushCurrent)(CUcontext ctx) = nullptr;
  CUresult (*CtxPopCurrent)(CUcontext* pctx) = nullptr;
  CUresult (*CtxSynchronize)() = nullptr;
  CUresult (*DevicePrimaryCtxRetain)(CUcontext* pctx, CUdevice dev) = nullptr;
  CUresult (*DevicePrimaryCtxRelease)(CUdevice dev) = nullptr;
  CUresult (*MemAlloc)(CUdeviceptr* dptr, size_t bytesize) = nullptr;
  CUresult (*MemFree)(CUdeviceptr dptr) = nullptr;
  CUresult (*MemsetD8Async)(CUdeviceptr dst, unsigned char uc, size_t n, CUstream stream) = nullptr;
  CUresult (*MemcpyDtoHAsync)(void* dst, CUdeviceptr src, size_t bytes, CUstream stream) = nullptr;
  CUresult (*MemAllocHost)(void** pp, size_t bytesize) = nullptr;
  CUresult (*MemFreeHost)(void* p) = nullptr;
  CUresult (*StreamCreate)(CUstream* phStream, unsigned int flags) = nullptr;
  CUresult (*StreamDestroy)(CUstream hStream) = nullptr;
  CUresult (*StreamSynchronize)(CUstream hStream) = nullptr;
  CUresult (*EventCreate)(CUevent* phEvent, unsigned int flags) = nullptr;
  CUresult (*EventRecord)(CUevent hEvent, CUstream hStream) = nullptr;
  CUresult (*EventSynchronize)(CUevent hEvent) = nullptr;
  CUresult (*EventDestroy)(CUevent hEvent) = nullptr;

  // EGLStream interop (cudaEGL.h).
  CUresult (*EGLStreamConsumerConnect)(CUeglStreamConnection* conn, EGLStreamKHR stream) = nullptr;
  CUresult (*EGLStreamConsumerDisconnect)(CUeglStreamConnection* conn) = nullptr;
  CUresult (*EGLStreamConsumerAcquireFrame)(CUeglStreamConnection* conn, CUgraphicsResource* pCudaResource,
                                            CUstream* pStream, unsigned int timeout) = nullptr;
  CUresult (*EGLStreamConsumerReleaseFrame)(CUeglStreamConnection* conn, CUgraphicsResource pCudaResource,
                                            CUstream* pStream) = nullptr;
  CUresult (*EGLStreamProducerConnect)(CUeglStreamConnection* conn, EGLStreamKHR stream, EGLint width,
                                       EGLint height) = nullptr;
  CUresult (*EGLStreamProducerDisconnect)(CUeglStreamConnection* conn) = nullptr;
  CUresult (*EGLStreamProducerPresentFrame)(CUeglStreamConnection* conn, CUeglFrame eglframe,
                                            CUstream* pStream) = nullptr;
  CUresult (*EGLStreamProducerReturnFrame)(CUeglStreamConnection* conn, CUeglFrame* eglframe,
                                           CUstream* pStream) = nullptr;
  CUresult (*GraphicsResourceGetMappedEglFrame)(CUeglFrame* eglFrame, CUgraphicsResource resource,
                                                unsigned int index, unsigned int mipLevel) = nullptr;

  std::string library;  // the file that was loaded
};

// Loads libcuda.so.1 and resolves every entry point: first by its versioned export name (cuCtxCreate_v2),
// then, for names a newer driver no longer exports, through cuGetProcAddress. False with *err naming the
// library or the missing symbol. Does not call cuInit.
bool LoadCuda(CudaApi* api, std::string* err);

// The process-wide CudaApi, loaded on first use (thread-safe) and never unloaded: drivers keep threads and
// atexit handlers that do not survive dlclose. nullptr with *err when it cannot be loaded.
const CudaApi* Cuda(std::string* err);

// "cuCtxCreate: CUDA_ERROR_OUT_OF_MEMORY (2)". Sets *err and returns false unless r == CUDA_SUCCESS.
bool CuOk(CUresult r, const char* what, std::string* err);

// cuInit(0) and the first device: "cuInit: CUDA_ERROR_NO_DEVICE (100)" when there is none.
bool CudaInitDevice(const CudaApi& cu, CUdevice* dev, std::string* err);

}  // namespace cg
