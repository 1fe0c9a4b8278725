#include "supervisor/agent_channel.h"

#include <elf.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "supervisor/handler_report.h"
#include "supervisor/spawn.h"

namespace cg {

namespace {

// The channel a finished trial gave back, for the next trial on the same thread (a --jobs worker runs its
// trials one after another): creating a memfd, mapping it, and closing it again (the close evicts the inode)
// was about a tenth of the supervisor's CPU time on `--exec /bin/true` (bench/results/exec-throughput.md).
struct SpareChannel {
  ScopedFd fd, notify_r, notify_w;
  agent_block* block = nullptr;
  ~SpareChannel() {
    if (block) munmap(block, AGENT_BLOCK_SIZE);
  }
};
thread_local SpareChannel t_spare;

}  // namespace

AgentChannel::~AgentChannel() {
  if (!block_) return;
  // Zeroed for its next trial (clearing a page in place costs less than truncating the file, which frees it and
  // faults in a new one), and anything left unread in the pipe drained.
  if (recycle_ && !t_spare.block) {
    std::memset(static_cast<void*>(block_), 0, AGENT_BLOCK_SIZE);
    DrainNotifications();
    t_spare.fd = std::move(fd_);
    t_spare.notify_r = std::move(notify_r_);
    t_spare.notify_w = std::move(notify_w_);
    t_spare.block = block_;
    return;
  }
  munmap(block_, AGENT_BLOCK_SIZE);
}

bool AgentChannel::Create(std::string* err) {
  static_assert(sizeof(agent_block) <= AGENT_BLOCK_SIZE, "agent block larger than its file");
  if (t_spare.block) {
    fd_ = std::move(t_spare.fd);
    notify_r_ = std::move(t_spare.notify_r);
    notify_w_ = std::move(t_spare.notify_w);
    block_ = std::exchange(t_spare.block, nullptr);
    block_->magic = AGENT_BLOCK_MAGIC;
    block_->version = AGENT_BLOCK_VERSION;
    return true;
  }
  fd_.reset(FdAbove2(memfd_create("crashgrid-agent", MFD_CLOEXEC)));
  if (!fd_.is_open() || ftruncate(fd_.get(), AGENT_BLOCK_SIZE) != 0) {
    *err = fmt::format("cannot create the agent block: {}", std::strerror(errno));
    return false;
  }
  void* p = mmap(nullptr, AGENT_BLOCK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
  if (p == MAP_FAILED) {
    *err = fmt::format("cannot map the agent block: {}", std::strerror(errno));
    return false;
  }
  block_ = static_cast<agent_block*>(p);
  block_->magic = AGENT_BLOCK_MAGIC;
  block_->version = AGENT_BLOCK_VERSION;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    *err = fmt::format("cannot create the agent's notify pipe: {}", std::strerror(errno));
    return false;
  }
  notify_r_.reset(FdAbove2(fds[0]));
  notify_w_.reset(FdAbove2(fds[1]));
  return true;
}

void AgentChannel::AddToEnvironment(const char* mode, int handler_fd,
                                    std::vector<std::pair<std::string, std::string>>* env,
                                    std::vector<int>* inherit_fds) const {
  env->emplace_back(AGENT_ENV_FD, std::to_string(fd_.get()));
  env->emplace_back(AGENT_ENV_NOTIFY, std::to_string(notify_w_.get()));
  env->emplace_back(AGENT_ENV_MODE, mode);
  inherit_fds->push_back(fd_.get());
  inherit_fds->push_back(notify_w_.get());
  if (handler_fd >= 0) {
    env->emplace_back(kHandlerFdEnv, std::to_string(handler_fd));
    inherit_fds->push_back(handler_fd);
  }
}

void AgentChannel::DrainNotifications() {
  char buf[64];
  while (read(notify_r_.get(), buf, sizeof buf) > 0) {
  }
}

int AgentChannel::State() const { return __atomic_load_n(&block_->fault_state, __ATOMIC_ACQUIRE); }

int AgentChannel::processes_loaded() const {
  return __atomic_load_n(&block_->processes_loaded, __ATOMIC_ACQUIRE);
}

bool AgentChannel::Release(bool captured) {
  // From POSTED only: an agent whose wait ran out has already moved on to SELF and writes its own record.
  int32_t expected = AGENT_FAULT_POSTED;
  bool in_time = __atomic_compare_exchange_n(&block_->fault_state, &expected,
                                             captured ? AGENT_FAULT_RELEASED : AGENT_FAULT_SELF, false,
                                             __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
  // A shared futex (not FUTEX_PRIVATE_FLAG): the waiter is another process mapping the same memfd page.
  syscall(SYS_futex, &block_->fault_state, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
  return in_time;
}

namespace {

const agent_api& ApiRegion(const agent_block* b) {
  static_assert(AGENT_API_OFFSET >= sizeof(agent_block), "the API region overlaps the fault record");
  static_assert(AGENT_API_OFFSET + sizeof(agent_api) <= AGENT_BLOCK_SIZE, "the API region is past the block");
  return *reinterpret_cast<const agent_api*>(reinterpret_cast<const char*>(b) + AGENT_API_OFFSET);
}

// Entry `id` of the name table (1-based), "" when unset, not ready or not an identifier.
std::string ApiName(const agent_api& a, uint32_t id) {
  if (id == 0 || id > AGENT_API_NAMES) return "";
  const agent_api_name& e = a.names[id - 1];
  if (__atomic_load_n(&e.ready, __ATOMIC_ACQUIRE) != 1) return "";
  char buf[AGENT_API_NAME_MAX];
  std::memcpy(buf, e.name, sizeof buf);
  size_t n = strnlen(buf, sizeof buf);
  for (size_t i = 0; i < n; ++i) {
    char c = buf[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '?')) return "";
  }
  return std::string(buf, n);
}

// Phase `id` (1-based) of the program's table, "" when unset or not ready; bytes outside printable ASCII read
// as '?' (the agent writes only those, but the table lives in memory the program can write).
std::string PhaseName(const agent_api& a, uint32_t id) {
  if (id == 0 || id > AGENT_API_PHASES) return "";
  const agent_api_name& e = a.phases[id - 1];
  if (__atomic_load_n(&e.ready, __ATOMIC_ACQUIRE) != 1) return "";
  char buf[AGENT_API_NAME_MAX];
  std::memcpy(buf, e.name, sizeof buf);
  std::string name(buf, strnlen(buf, sizeof buf));
  for (char& c : name)
    if (c < 0x20 || c > 0x7e) c = '?';
  return name;
}

}  // namespace

std::vector<ThreadStatus> AgentChannel::ProgramThreads() const {
  std::vector<ThreadStatus> out;
  if (!block_) return out;
  const agent_api& a = ApiRegion(block_);
  for (uint32_t i = 0; i < AGENT_API_THREADS; ++i) {
    const agent_api_thread& t = a.threads[i];
    ThreadStatus s;
    s.tid = __atomic_load_n(&t.tid, __ATOMIC_ACQUIRE);
    if (s.tid <= 0) continue;
    s.index = static_cast<int>(i);
    s.phase = PhaseName(a, __atomic_load_n(&t.phase, __ATOMIC_RELAXED));
    s.iterations = static_cast<int64_t>(__atomic_load_n(&t.iterations, __ATOMIC_RELAXED));
    out.push_back(std::move(s));
  }
  return out;
}

bool AgentChannel::ProgramIterations(int64_t* iterations) const {
  if (!block_) return false;
  const agent_api& a = ApiRegion(block_);
  if (__atomic_load_n(&a.program_reports, __ATOMIC_ACQUIRE) == 0) return false;
  *iterations = static_cast<int64_t>(__atomic_load_n(&a.iterations, __ATOMIC_RELAXED));
  return true;
}

std::vector<AgentThreadCall> AgentChannel::ApiThreads() const {
  std::vector<AgentThreadCall> out;
  if (!block_) return out;
  const agent_api& a = ApiRegion(block_);
  for (const agent_api_thread& t : a.threads) {
    AgentThreadCall c;
    c.tid = __atomic_load_n(&t.tid, __ATOMIC_ACQUIRE);
    if (c.tid <= 0) continue;
    c.pid = __atomic_load_n(&t.pid, __ATOMIC_RELAXED);
    c.depth = __atomic_load_n(&t.depth, __ATOMIC_RELAXED);
    c.calls = static_cast<int64_t>(__atomic_load_n(&t.calls, __ATOMIC_RELAXED));
    c.call_mono_ns = __atomic_load_n(&t.call_mono_ns, __ATOMIC_RELAXED);
    c.outer_arg = __atomic_load_n(&t.outer_arg, __ATOMIC_RELAXED);
    if (c.calls == 0 && c.depth <= 0) continue;  // a thread that only named phases (crashgrid.h): no API calls
    if (c.depth > 0) {
      c.call = ApiName(a, __atomic_load_n(&t.call, __ATOMIC_RELAXED));
      c.outer = ApiName(a, __atomic_load_n(&t.outer, __ATOMIC_RELAXED));
    }
    out.push_back(std::move(c));
  }
  return out;
}

int64_t AgentChannel::ApiCallCount(const std::string& name) const {
  if (!block_) return 0;
  const agent_api& a = ApiRegion(block_);
  uint32_t used = std::min<uint32_t>(__atomic_load_n(&a.names_used, __ATOMIC_ACQUIRE), AGENT_API_NAMES);
  int64_t n = 0;
  for (uint32_t i = 0; i < used; ++i) {
    if (ApiName(a, i + 1) == name) n += static_cast<int64_t>(__atomic_load_n(&a.names[i].calls, __ATOMIC_RELAXED));
  }
  return n;
}

namespace {

std::string WhyAgentCannotLoadUncached(const std::string& path, const struct stat& st) {
  // The dynamic loader ignores LD_PRELOAD paths for a secure-execution program (set-ID and not ours).
  if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) || ((st.st_mode & S_ISGID) && st.st_gid != getegid())) {
    return "a set-user-ID or set-group-ID program";
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  ScopedFd owner(fd);
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr)) {
    return "";  // a script, or not an ELF file this check knows: started the usual way
  }
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    off_t off = static_cast<off_t>(eh.e_phoff + static_cast<uint64_t>(i) * sizeof ph);
    if (pread(fd, &ph, sizeof ph, off) != static_cast<ssize_t>(sizeof ph)) return "";
    if (ph.p_type == PT_INTERP) return "";
  }
  return "a static executable";
}

}  // namespace

// A sweep asks this for the same program before every trial: the answer is kept for the file as it was
// (device, inode, size, change time), so that a trial costs one stat, not an open and a dozen reads.
std::string WhyAgentCannotLoad(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return "";
  struct Cached {
    std::string path, why;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    struct timespec ctime {};
  };
  static std::mutex mu;
  static Cached last;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (last.path == path && last.dev == st.st_dev && last.ino == st.st_ino && last.size == st.st_size &&
        last.ctime.tv_sec == st.st_ctim.tv_sec && last.ctime.tv_nsec == st.st_ctim.tv_nsec) {
      return last.why;
    }
  }
  std::string why = WhyAgentCannotLoadUncached(path, st);
  std::lock_guard<std::mutex> lock(mu);
  last = Cached{path, why, st.st_dev, st.st_ino, st.st_size, st.st_ctim};
  return why;
}

}  // namespace cg
