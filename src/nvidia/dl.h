// RAII owner of a dlopen handle, and typed symbol lookup. NVIDIA libraries are loaded at run time so one
// crashgrid binary builds without any NVIDIA SDK and runs (and says what is missing) on any Linux machine.
#pragma once

#include <string>
#include <utility>

namespace cg {

class DlLibrary {
 public:
  DlLibrary() = default;
  ~DlLibrary();
  DlLibrary(DlLibrary&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)), name_(std::move(o.name_)) {}
  DlLibrary& operator=(DlLibrary&& o) noexcept;
  DlLibrary(const DlLibrary&) = delete;
  DlLibrary& operator=(const DlLibrary&) = delete;

  // Tries each name in turn ("libcuda.so.1", "libcuda.so"); false with *err = dlerror() of the first one.
  bool Open(std::initializer_list<const char*> names, std::string* err);
  bool loaded() const { return handle_ != nullptr; }
  const std::string& name() const { return name_; }
  void* Symbol(const char* sym) const;
  template <typename Fn>
  bool Get(const char* sym, Fn** fn) const {
    *fn = reinterpret_cast<Fn*>(Symbol(sym));
    return *fn != nullptr;
  }

 private:
  void* handle_ = nullptr;
  std::string name_;
};

}  // namespace cg
