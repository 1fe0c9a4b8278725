#include "nvidia/egl_api.h"

#include <mutex>

#include "nvidia/dl.h"
#include "nvidia/errors.h"

namespace cg {

bool EglFail(const EglApi& egl, const char* what, std::string* err) {
  if (err) *err = std::string(what) + ": " + EglErrorName(egl.GetError ? egl.GetError() : 0);
  return false;
}

bool LoadEgl(EglApi* api, std::string* err) {
  DlLibrary lib;
  std::string dlerr;
  if (!lib.Open({"libEGL.so.1", "libEGL.so"}, &dlerr)) {
    *err = "libEGL.so.1 not found: no EGL loader on this machine (" + dlerr + ")";
    return false;
  }
  if (!lib.Get("eglGetProcAddress", &api->GetProcAddress) || !lib.Get("eglGetError", &api->GetError) ||
      !lib.Get("eglInitialize", &api->Initialize) || !lib.Get("eglTerminate", &api->Terminate) ||
      !lib.Get("eglQueryString", &api->QueryString)) {
    *err = lib.name() + " lacks the EGL 1.0 core entry points";
    return false;
  }
  struct Ext {
    void** slot;
    const char* name;
  };
  const Ext exts[] = {
      {reinterpret_cast<void**>(&api->QueryDevicesEXT), "eglQueryDevicesEXT"},
      {reinterpret_cast<void**>(&api->QueryDeviceAttribEXT), "eglQueryDeviceAttribEXT"},
      {reinterpret_cast<void**>(&api->QueryDeviceStringEXT), "eglQueryDeviceStringEXT"},
      {reinterpret_cast<void**>(&api->GetPlatformDisplayEXT), "eglGetPlatformDisplayEXT"},
      {reinterpret_cast<void**>(&api->CreateStreamKHR), "eglCreateStreamKHR"},
      {reinterpret_cast<void**>(&api->DestroyStreamKHR), "eglDestroyStreamKHR"},
      {reinterpret_cast<void**>(&api->StreamAttribKHR), "eglStreamAttribKHR"},
      {reinterpret_cast<void**>(&api->QueryStreamKHR), "eglQueryStreamKHR"},
  };
  for (const Ext& e : exts) {
    *e.slot = reinterpret_cast<void*>(api->GetProcAddress(e.name));
    if (!*e.slot) {
      *err = "eglGetProcAddress(" + std::string(e.name) + ") returned nothing: no EGL vendor library offers it";
      return false;
    }
  }
  static DlLibrary* keep = new DlLibrary(std::move(lib));  // never dlclose EGL: vendor libraries stay mapped
  (void)keep;
  return true;
}

const EglApi* Egl(std::string* err) {
  static std::once_flag once;
  static EglApi api;
  static bool ok = false;
  static std::string load_err;
  std::call_once(once, [] { ok = LoadEgl(&api, &load_err); });
  if (!ok) {
    if (err) *err = load_err;
    return nullptr;
  }
  return &api;
}

bool OpenEglCudaDisplay(const EglApi& egl, EglCudaDisplay* out, std::string* err) {
  EGLDeviceEXT devices[16];
  EGLint n = 0;
  if (!egl.QueryDevicesEXT(16, devices, &n)) return EglFail(egl, "eglQueryDevicesEXT", err);
  out->devices = n;
  if (n == 0) {
    *err = "eglQueryDevicesEXT: no EGL device (the NVIDIA EGL vendor library is not installed or not found)";
    return false;
  }
  int chosen = -1;
  for (int i = 0; i < n; ++i) {
    EGLAttrib cuda_index = -1;
    if (egl.QueryDeviceAttribEXT(devices[i], EGL_CUDA_DEVICE_NV, &cuda_index)) {
      chosen = i;
      out->cuda_device = static_cast<int>(cuda_index);
      break;
    }
  }
  if (chosen < 0) {
    *err = "eglQueryDeviceAttribEXT(EGL_CUDA_DEVICE_NV): none of the " + std::to_string(n) +
           " EGL devices is a CUDA device (no NVIDIA EGL driver)";
    return false;
  }
  if (const char* ext = egl.QueryDeviceStringEXT(devices[chosen], EGL_EXTENSIONS)) out->device_extensions = ext;
  EGLDisplay dpy = egl.GetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, devices[chosen], nullptr);
  if (dpy == EGL_NO_DISPLAY) return EglFail(egl, "eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT)", err);
  EGLint major = 0, minor = 0;
  if (!egl.Initialize(dpy, &major, &minor)) return EglFail(egl, "eglInitialize", err);
  if (const char* ext = egl.QueryString(dpy, EGL_EXTENSIONS)) out->display_extensions = ext;
  out->display = dpy;
  return true;
}

}  // namespace cg
