// The supervisor's end of the in-trial agent (src/agent/agent_block.h): the block the agent posts a fault in,
// mapped here, and the pipe it writes a byte to so the supervisor wakes at once.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agent/agent_block.h"
#include "trial/trial.h"
#include "util/fd.h"

namespace cg {

class AgentChannel {
 public:
  AgentChannel() = default;
  ~AgentChannel();
  AgentChannel(const AgentChannel&) = delete;
  AgentChannel& operator=(const AgentChannel&) = delete;

  // A zeroed block with magic and version set, and the notify pipe. False with *err.
  [[nodiscard]] bool Create(std::string* err);
  bool is_open() const { return block_ != nullptr; }
  // What the trial's environment needs (`mode` "attach" or "handler"), and the fds it must inherit.
  void AddToEnvironment(const char* mode, int handler_fd, std::vector<std::pair<std::string, std::string>>* env,
                        std::vector<int>* inherit_fds) const;
  int notify_fd() const { return notify_r_.get(); }  // readable after a fault was posted
  void DrainNotifications();

  // The fault record, once posted (fault_state POSTED or later).
  int State() const;
  const agent_block& block() const { return *block_; }
  int processes_loaded() const;
  // Lets the faulting thread go: `captured` true -> RELEASED, false -> SELF (the agent writes its own record).
  // False when the agent's wait had already run out (it wrote its own record).
  [[nodiscard]] bool Release(bool captured);
  // Call once no process of the trial is left that could touch the block or the pipe (all killed and reaped):
  // the destructor then keeps them, zeroed, for the next trial on this thread instead of closing them.
  void Recycle() { recycle_ = true; }

  // The threads the agent's API-call table holds now (also after the trial died): the call each is in, its
  // count. Names are read as identifiers only (the table lives in memory the program can write).
  std::vector<AgentThreadCall> ApiThreads() const;
  // Calls of `name` entered so far, all threads and processes together (--progress-api).
  int64_t ApiCallCount(const std::string& name) const;
  // What a program reports through crashgrid.h: each thread's phase ("" between phases) and iterations, as the
  // status block reports a built-in workload's threads (index is the slot); names in printable ASCII only.
  std::vector<ThreadStatus> ProgramThreads() const;
  // The program's iterations, all threads and processes together; false when it never called crashgrid.h.
  bool ProgramIterations(int64_t* iterations) const;

 private:
  ScopedFd fd_, notify_r_, notify_w_;
  agent_block* block_ = nullptr;
  bool recycle_ = false;
};

// Why LD_PRELOAD cannot bring the agent into `path` ("a static executable", "a set-user-ID program"), or "" when
// it can (a dynamic ELF, or a script whose interpreter is started the usual way).
std::string WhyAgentCannotLoad(const std::string& path);

}  // namespace cg
