#include "nvidia/dl.h"

#include <dlfcn.h>

namespace cg {

DlLibrary::~DlLibrary() {
  if (handle_) dlclose(handle_);
}

DlLibrary& DlLibrary::operator=(DlLibrary&& o) noexcept {
  if (this != &o) {
    if (handle_) dlclose(handle_);
    handle_ = std::exchange(o.handle_, nullptr);
    name_ = std::move(o.name_);
  }
  return *this;
}

bool DlLibrary::Open(std::initializer_list<const char*> names, std::string* err) {
  bool first = true;
  for (const char* n : names) {
    dlerror();
    void* h = dlopen(n, RTLD_NOW | RTLD_LOCAL);
    if (h) {
      if (handle_) dlclose(handle_);
      handle_ = h;
      name_ = n;
      return true;
    }
    const char* e = dlerror();
    // The first name is the real one (libcuda.so.1); fallbacks' errors would only confuse.
    if (err && first) *err = e ? e : (std::string(n) + ": cannot be loaded");
    first = false;
  }
  return false;
}

void* DlLibrary::Symbol(const char* sym) const { return handle_ ? dlsym(handle_, sym) : nullptr; }

}  // namespace cg
