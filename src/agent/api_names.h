/* The API calls libcrashgrid_agent.so tracks and the --serialize groups that name them: one list for the agent
 * (src/agent/api_track.c, which interposes and locks them) and for crashgrid itself (src/sweep/api_serialize.cc,
 * which refuses a --serialize value that names none of them before a sweep starts). C and C++ alike include
 * it; everything is static const data and static inline functions, no symbols. */
#ifndef CRASHGRID_API_NAMES_H_
#define CRASHGRID_API_NAMES_H_

#include <stddef.h>
#include <string.h>

/* A name is tracked when it starts with one of these (whichever way it was reached: direct binding, dlsym,
 * cuGetProcAddress, eglGetProcAddress), besides the special entries api_track.c's tracked_name() lists
 * (cuGetProcAddress, eglGetProcAddress, NvEncodeAPICreateInstance, gst_object_unref). */
static const char* const cg_api_tracked_prefixes[] = {
    "cuInit",    "cuCtx",         "cuDevicePrimaryCtx", "cuMem",           "cuStream",
    "cuEvent",   "cuGraphics",    "cuEGLStream",        "cuvid",           "nvEnc",
    "eglCreateStream",            "eglDestroyStream",   "eglStream",       "eglQueryStream",
    "gst_element_set_state",      "gst_element_get_state",                 "gst_parse_launch",
    "gst_element_link"};

/* --serialize groups (besides "none" and "all"): a call is in a group when its name starts with one of the
 * group's prefixes or is one of its names. README.md documents them. */
#define CG_API_GROUP_MAX 6
struct cg_api_group {
  const char* name;
  const char* prefixes[CG_API_GROUP_MAX]; /* NULL-terminated */
  const char* names[CG_API_GROUP_MAX];    /* NULL-terminated */
};
static const struct cg_api_group cg_api_groups[] = {
    {"cuvid", {"cuvid", NULL}, {NULL}},
    {"nvenc", {"nvEnc", NULL}, {NULL}},
    {"ctx", {"cuCtx", "cuDevicePrimaryCtx", NULL}, {NULL}},
    {"egl-stream",
     {"cuEGLStream", "eglCreateStream", "eglDestroyStream", "eglStream", "eglQueryStream", NULL},
     {NULL}},
    {"gst-state", {NULL}, {"gst_element_set_state", "gst_element_get_state", NULL}},
};
#define CG_API_GROUP_COUNT (sizeof cg_api_groups / sizeof cg_api_groups[0])

/* The group called group[0..n), NULL when none is ("all" and "none" are not groups of this table). */
static inline const struct cg_api_group* cg_api_find_group(const char* group, size_t n) {
  for (size_t i = 0; i < CG_API_GROUP_COUNT; ++i) {
    if (strlen(cg_api_groups[i].name) == n && strncmp(cg_api_groups[i].name, group, n) == 0) return &cg_api_groups[i];
  }
  return NULL;
}

static inline int cg_api_group_contains(const struct cg_api_group* g, const char* name) {
  for (int i = 0; i < CG_API_GROUP_MAX && g->prefixes[i]; ++i) {
    if (strncmp(name, g->prefixes[i], strlen(g->prefixes[i])) == 0) return 1;
  }
  for (int i = 0; i < CG_API_GROUP_MAX && g->names[i]; ++i) {
    if (strcmp(name, g->names[i]) == 0) return 1;
  }
  return 0;
}

/* The entry points the agent exports (direct binding), X(name, kind): kind is one of api_track.c's K_* (a
 * reader that has no use for it ignores the token). */
#define CG_API_HOOKS(X)                                                                                             \
  X(cuInit, K_PLAIN) X(cuGetProcAddress, K_GETPROC) X(cuGetProcAddress_v2, K_GETPROC)                        \
  X(cuDevicePrimaryCtxRetain, K_PLAIN) X(cuDevicePrimaryCtxRelease, K_PLAIN)                                 \
  X(cuDevicePrimaryCtxRelease_v2, K_PLAIN) X(cuDevicePrimaryCtxReset, K_PLAIN)                               \
  X(cuDevicePrimaryCtxReset_v2, K_PLAIN) X(cuCtxCreate, K_PLAIN) X(cuCtxCreate_v2, K_PLAIN)                  \
  X(cuCtxCreate_v3, K_PLAIN) X(cuCtxDestroy, K_PLAIN) X(cuCtxDestroy_v2, K_PLAIN)                            \
  X(cuCtxPushCurrent, K_PLAIN) X(cuCtxPushCurrent_v2, K_PLAIN) X(cuCtxPopCurrent, K_PLAIN)                   \
  X(cuCtxPopCurrent_v2, K_PLAIN) X(cuCtxSetCurrent, K_PLAIN) X(cuCtxGetCurrent, K_PLAIN)                     \
  X(cuCtxSynchronize, K_PLAIN) X(cuMemAlloc, K_PLAIN) X(cuMemAlloc_v2, K_PLAIN) X(cuMemFree, K_PLAIN)        \
  X(cuMemFree_v2, K_PLAIN) X(cuMemAllocHost, K_PLAIN) X(cuMemAllocHost_v2, K_PLAIN) X(cuMemFreeHost, K_PLAIN) \
  X(cuMemAllocPitch_v2, K_PLAIN) X(cuMemcpy, K_PLAIN) X(cuMemcpyAsync, K_PLAIN) X(cuMemcpyHtoD_v2, K_PLAIN)  \
  X(cuMemcpyDtoH_v2, K_PLAIN) X(cuMemcpyDtoD_v2, K_PLAIN) X(cuMemcpyHtoDAsync_v2, K_PLAIN)                   \
  X(cuMemcpyDtoHAsync_v2, K_PLAIN) X(cuMemcpy2D_v2, K_PLAIN) X(cuMemcpy2DAsync_v2, K_PLAIN)                  \
  X(cuMemsetD8_v2, K_PLAIN) X(cuMemHostRegister_v2, K_PLAIN) X(cuMemHostUnregister, K_PLAIN)                 \
  X(cuStreamCreate, K_PLAIN) X(cuStreamDestroy, K_PLAIN) X(cuStreamDestroy_v2, K_PLAIN)                      \
  X(cuStreamSynchronize, K_PLAIN) X(cuStreamQuery, K_PLAIN) X(cuStreamWaitEvent, K_PLAIN)                    \
  X(cuEventCreate, K_PLAIN) X(cuEventDestroy, K_PLAIN) X(cuEventDestroy_v2, K_PLAIN) X(cuEventRecord, K_PLAIN) \
  X(cuEventSynchronize, K_PLAIN) X(cuEventQuery, K_PLAIN) X(cuGraphicsMapResources, K_PLAIN)                 \
  X(cuGraphicsUnmapResources, K_PLAIN) X(cuGraphicsUnregisterResource, K_PLAIN)                              \
  X(cuGraphicsResourceGetMappedPointer_v2, K_PLAIN) X(cuGraphicsGLRegisterImage, K_PLAIN)                    \
  X(cuGraphicsGLRegisterBuffer, K_PLAIN) X(cuGraphicsEGLRegisterImage, K_PLAIN)                              \
  X(cuGraphicsResourceGetMappedEglFrame, K_PLAIN) X(cuEGLStreamConsumerConnect, K_PLAIN)                     \
  X(cuEGLStreamConsumerDisconnect, K_PLAIN) X(cuEGLStreamConsumerAcquireFrame, K_PLAIN)                      \
  X(cuEGLStreamConsumerReleaseFrame, K_PLAIN) X(cuEGLStreamProducerConnect, K_PLAIN)                         \
  X(cuEGLStreamProducerDisconnect, K_PLAIN) X(cuEGLStreamProducerPresentFrame, K_PLAIN)                      \
  X(cuEGLStreamProducerReturnFrame, K_PLAIN) X(cuvidCreateDecoder, K_PLAIN) X(cuvidDestroyDecoder, K_PLAIN)  \
  X(cuvidDecodePicture, K_PLAIN) X(cuvidGetDecodeStatus, K_PLAIN) X(cuvidReconfigureDecoder, K_PLAIN)        \
  X(cuvidMapVideoFrame, K_PLAIN) X(cuvidMapVideoFrame64, K_PLAIN) X(cuvidUnmapVideoFrame, K_PLAIN)           \
  X(cuvidUnmapVideoFrame64, K_PLAIN) X(cuvidCreateVideoParser, K_PLAIN) X(cuvidParseVideoData, K_PLAIN)      \
  X(cuvidDestroyVideoParser, K_PLAIN) X(cuvidGetDecoderCaps, K_PLAIN) X(cuvidCtxLockCreate, K_PLAIN)         \
  X(cuvidCtxLockDestroy, K_PLAIN) X(cuvidCtxLock, K_PLAIN) X(cuvidCtxUnlock, K_PLAIN)                        \
  X(NvEncodeAPICreateInstance, K_NVENC) X(eglGetProcAddress, K_EGLPROC) X(gst_element_set_state, K_PLAIN)    \
  X(gst_element_get_state, K_PLAIN) X(gst_parse_launch, K_PLAIN) X(gst_parse_launch_full, K_PLAIN)           \
  X(gst_element_link, K_PLAIN) X(gst_element_link_pads, K_PLAIN) X(gst_element_link_pads_full, K_PLAIN)      \
  X(gst_element_link_filtered, K_PLAIN) X(gst_element_link_pads_filtered, K_PLAIN) X(gst_object_unref, K_UNREF)

/* NV_ENCODE_API_FUNCTION_LIST (nvEncodeAPI.h): uint32_t version, uint32_t reserved, then these pointers in
 * this order ("" for the reserved one). Entries past the list are left alone. */
static const char* const cg_api_nvenc_table[] = {
    "nvEncOpenEncodeSession",     "nvEncGetEncodeGUIDCount",     "nvEncGetEncodeProfileGUIDCount",
    "nvEncGetEncodeProfileGUIDs", "nvEncGetEncodeGUIDs",         "nvEncGetInputFormatCount",
    "nvEncGetInputFormats",       "nvEncGetEncodeCaps",          "nvEncGetEncodePresetCount",
    "nvEncGetEncodePresetGUIDs",  "nvEncGetEncodePresetConfig",  "nvEncInitializeEncoder",
    "nvEncCreateInputBuffer",     "nvEncDestroyInputBuffer",     "nvEncCreateBitstreamBuffer",
    "nvEncDestroyBitstreamBuffer", "nvEncEncodePicture",         "nvEncLockBitstream",
    "nvEncUnlockBitstream",       "nvEncLockInputBuffer",        "nvEncUnlockInputBuffer",
    "nvEncGetEncodeStats",        "nvEncGetSequenceParams",      "nvEncRegisterAsyncEvent",
    "nvEncUnregisterAsyncEvent",  "nvEncMapInputResource",       "nvEncUnmapInputResource",
    "nvEncDestroyEncoder",        "nvEncInvalidateRefFrames",    "nvEncOpenEncodeSessionEx",
    "nvEncRegisterResource",      "nvEncUnregisterResource",     "nvEncReconfigureEncoder",
    "",                           "nvEncCreateMVBuffer",         "nvEncDestroyMVBuffer",
    "nvEncRunMotionEstimationOnly", "nvEncGetLastErrorString",   "nvEncSetIOCudaStreams",
    "nvEncGetEncodePresetConfigEx", "nvEncGetSequenceParamEx",   "nvEncRestoreEncoderState",
    "nvEncLookaheadPicture"};

#endif /* CRASHGRID_API_NAMES_H_ */
