// EGL (libEGL.so.1, the glvnd loader) and the extensions an EGLStream between two CUDA ends needs, loaded at
// run time. Extension entry points come from eglGetProcAddress, as EGL requires.
#pragma once

#include <EGL/egl.h>
#include <EGL/eglext.h>

#include <string>
#include <vector>

namespace cg {

struct EglApi {
  PFNEGLGETPROCADDRESSPROC GetProcAddress = nullptr;
  PFNEGLGETERRORPROC GetError = nullptr;
  PFNEGLINITIALIZEPROC Initialize = nullptr;
  PFNEGLTERMINATEPROC Terminate = nullptr;
  PFNEGLQUERYSTRINGPROC QueryString = nullptr;
  PFNEGLQUERYDEVICESEXTPROC QueryDevicesEXT = nullptr;
  PFNEGLQUERYDEVICEATTRIBEXTPROC QueryDeviceAttribEXT = nullptr;
  PFNEGLQUERYDEVICESTRINGEXTPROC QueryDeviceStringEXT = nullptr;
  PFNEGLGETPLATFORMDISPLAYEXTPROC GetPlatformDisplayEXT = nullptr;
  PFNEGLCREATESTREAMKHRPROC CreateStreamKHR = nullptr;
  PFNEGLDESTROYSTREAMKHRPROC DestroyStreamKHR = nullptr;
  PFNEGLSTREAMATTRIBKHRPROC StreamAttribKHR = nullptr;
  PFNEGLQUERYSTREAMKHRPROC QueryStreamKHR = nullptr;
};

// Loads libEGL.so.1 and the device/stream extension entry points. False with *err naming what is missing.
bool LoadEgl(EglApi* api, std::string* err);
// Process-wide, loaded once, never unloaded.
const EglApi* Egl(std::string* err);

// "eglCreateStreamKHR: EGL_BAD_ALLOC (0x3003)" from eglGetError(); always returns false.
bool EglFail(const EglApi& egl, const char* what, std::string* err);

// The EGL display of the first EGL device that is a CUDA device (EGL_CUDA_DEVICE_NV), initialised.
// The way NVIDIA's EGLStream_CUDA_Interop sample finds it. Also returns that device's extension string.
struct EglCudaDisplay {
  EGLDisplay display = EGL_NO_DISPLAY;
  int cuda_device = -1;
  std::string device_extensions;
  std::string display_extensions;
  int devices = 0;  // EGL devices seen
};
bool OpenEglCudaDisplay(const EglApi& egl, EglCudaDisplay* out, std::string* err);

}  // namespace cg
