#include "runtime/status_block.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace cg {

static_assert(std::atomic<int64_t>::is_always_lock_free, "status block needs lock-free 64-bit atomics");

StatusBlock::~StatusBlock() {
  if (base_) munmap(base_, kStatusBlockSize);
}

StatusBlock::StatusBlock(StatusBlock&& o) noexcept
    : base_(std::exchange(o.base_, nullptr)), header_(std::exchange(o.header_, nullptr)) {}

StatusBlock& StatusBlock::operator=(StatusBlock&& o) noexcept {
  if (this != &o) {
    if (base_) munmap(base_, kStatusBlockSize);
    base_ = std::exchange(o.base_, nullptr);
    header_ = std::exchange(o.header_, nullptr);
  }
  return *this;
}

int StatusBlock::CreateFd(std::string* err) {
  int fd = memfd_create("crashgrid-status", MFD_CLOEXEC);
  if (fd < 0) {
    *err = fmt::format("memfd_create: {}", std::strerror(errno));
    return -1;
  }
  if (ftruncate(fd, kStatusBlockSize) != 0) {
    *err = fmt::format("ftruncate status block: {}", std::strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

bool StatusBlock::Map(int fd, std::string* err) {
  void* p = mmap(nullptr, kStatusBlockSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    *err = fmt::format("mmap status block (fd {}): {}", fd, std::strerror(errno));
    return false;
  }
  if (base_) munmap(base_, kStatusBlockSize);
  base_ = p;
  header_ = static_cast<StatusHeader*>(p);
  return true;
}

bool StatusBlock::MapAnonymous(std::string* err) {
  void* p = mmap(nullptr, kStatusBlockSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    *err = fmt::format("mmap: {}", std::strerror(errno));
    return false;
  }
  if (base_) munmap(base_, kStatusBlockSize);
  base_ = p;
  header_ = static_cast<StatusHeader*>(p);
  return true;
}

void StatusBlock::Init(const std::vector<std::string>& phases, int threads) {
  header_->phases = static_cast<int32_t>(std::min<size_t>(phases.size(), kStatusMaxPhases));
  for (int i = 0; i < header_->phases; ++i) {
    std::strncpy(header_->phase_names[i], phases[i].c_str(), kStatusPhaseNameLen - 1);
  }
  for (int i = 0; i < std::min(threads, kStatusMaxThreads); ++i) {
    thread(i)->phase.store(kPhaseIdle);
  }
  header_->threads.store(std::min(threads, kStatusMaxThreads));
  header_->version = kStatusVersion;
  // The magic goes last, with release order: a reader that sees it (an acquire load, valid()) sees a complete
  // header. A store with release order rather than a fence, which ThreadSanitizer does not model (GCC's -Wtsan).
  __atomic_store_n(&header_->magic, kStatusMagic, __ATOMIC_RELEASE);
}

bool StatusBlock::valid() const {
  return header_ && __atomic_load_n(&header_->magic, __ATOMIC_ACQUIRE) == kStatusMagic &&
         header_->version == kStatusVersion;
}

StatusThread* StatusBlock::thread(int i) const {
  auto* threads = reinterpret_cast<StatusThread*>(reinterpret_cast<char*>(base_) + sizeof(StatusHeader));
  return &threads[i];
}

int StatusBlock::PhaseIndex(std::string_view name) const {
  if (!valid()) return -1;
  for (int i = 0; i < std::min<int>(header_->phases, kStatusMaxPhases); ++i) {
    const char* n = header_->phase_names[i];
    if (name == std::string_view(n, strnlen(n, kStatusPhaseNameLen))) return i;
  }
  return -1;
}

std::vector<ThreadStatus> StatusBlock::Snapshot() const {
  std::vector<ThreadStatus> out;
  if (!valid()) return out;
  int n = std::min<int>(header_->threads.load(), kStatusMaxThreads);
  for (int i = 0; i < n; ++i) {
    const StatusThread* t = thread(i);
    ThreadStatus s;
    s.index = i;
    s.tid = t->tid.load();
    int32_t phase = t->phase.load();
    if (phase == kPhaseDone) s.phase = "done";
    else if (phase >= 0 && phase < header_->phases)
      s.phase.assign(header_->phase_names[phase], strnlen(header_->phase_names[phase], kStatusPhaseNameLen));
    s.iterations = t->iterations.load();
    s.successes = t->successes.load();
    s.errors = t->errors.load();
    out.push_back(std::move(s));
  }
  return out;
}

int64_t StatusBlock::units() const { return valid() ? header_->units.load() : 0; }

double StatusBlock::started_unix() const {
  if (!valid() || !header_->started.load()) return 0;
  return static_cast<double>(header_->started_unix_ns.load()) / 1e9;
}

}  // namespace cg
