// `crashgrid run WORKLOAD`: one trial's workload, in this process. The supervisor runs exactly this (with
// the hidden --status-fd and --result-fd) for every trial of a sweep; users run it by hand to try a setting.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/strings.h"
#include "runtime/run_summary.h"
#include "runtime/runner.h"
#include "runtime/status_block.h"
#include "runtime/workload.h"

namespace cg {
namespace {

constexpr const char* kRunDescription =
    "Runs one workload in this process: N threads start together and repeat iterations until the deadline.\n"
    "Errors the workload meets are counted, not fatal: a run that completes exits 0. Exit codes: 0 ran,\n"
    "2 bad usage, 4 the workload cannot run on this machine.";

bool WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// The one way this command ends early: the reason goes to stderr as one line and, for a supervisor, into
// the result fd, so the trial is recorded as could-not-start with the same words.
int Fail(const ScopedFd& result_fd, ExitCode code, const std::string& reason) {
  if (result_fd.is_open()) WriteAll(result_fd.get(), CouldNotStartJson(reason).dump() + "\n");
  PrintError(reason);
  return code;
}

}  // namespace

int CmdRun(const Args& args) {
  CLI::App app{kRunDescription, "crashgrid run"};
  std::string workload_name;
  int threads = 0;
  std::string duration = "5s";
  std::vector<std::string> param_args;
  std::string serialize = "none";
  bool json = false;
  int status_fd = -1;
  int result_fd_num = -1;
  app.add_option("workload", workload_name, "the workload to run (see crashgrid workloads)")->required();
  app.add_option("--threads", threads, "worker threads, 1 to 1024 (default: $THREAD_COUNT, else 1)");
  app.add_option("--duration", duration, "how long the threads iterate: 500ms, 5s, 2m (default: 5s)");
  app.add_option("--param", param_args, "a workload parameter key=value (repeatable; see crashgrid workloads)")
      ->allow_extra_args(false);
  app.add_option("--serialize", serialize,
                 "none, all, or phases joined by ',' or '+' (e.g. open+close): one process-wide mutex held "
                 "around those phases (default: none)");
  app.add_flag("--json", json, "print the result as JSON instead of a summary");
  app.add_option("--status-fd", status_fd, "")->group("");
  app.add_option("--result-fd", result_fd_num, "")->group("");

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 wants the words back to front
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    PrintError(fmt::format("{} (see crashgrid run --help)", e.what()));
    return kExitUsage;
  }
  // Owned from here on, so every exit path closes it and the supervisor sees EOF.
  ScopedFd result_fd(result_fd_num);

  std::unique_ptr<Workload> workload = CreateWorkload(workload_name);
  if (!workload) {
    return Fail(result_fd, kExitUsage,
                fmt::format("unknown workload '{}'{} (see crashgrid workloads)", workload_name,
                            DidYouMean(workload_name, WorkloadNames())));
  }
  const WorkloadInfo& info = workload->info();

  RunOptions options;
  for (const auto& kv : param_args) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return Fail(result_fd, kExitUsage, fmt::format("--param '{}' is not key=value (e.g. --param {}=4)", kv,
                                                     info.params.empty() ? "key" : info.params[0].name));
    options.params.Set(kv.substr(0, eq), kv.substr(eq + 1));
  }
  std::string err;
  if (!CheckParamNames(info, options.params, &err)) return Fail(result_fd, kExitUsage, err);

  if (app.count("--threads")) {
    if (threads < 1 || threads > kMaxWorkloadThreads)
      return Fail(result_fd, kExitUsage,
                  fmt::format("--threads {} is out of range (use 1 to {})", threads, kMaxWorkloadThreads));
    options.threads = threads;
  } else if (!DefaultThreads(&options.threads, &err)) {
    return Fail(result_fd, kExitUsage, err);
  }
  if (!ParseDuration(duration, &options.duration_s, &err))
    return Fail(result_fd, kExitUsage, "--duration " + err);
  if (options.duration_s <= 0)
    return Fail(result_fd, kExitUsage, fmt::format("--duration '{}' must be positive (e.g. 5s)", duration));
  options.serialize = serialize;
  std::vector<std::string> serialized;
  if (!ParseSerialize(serialize, info.phases, &serialized, &err)) return Fail(result_fd, kExitUsage, err);
  if (!workload->Validate(options.params, options.threads, &err)) return Fail(result_fd, kExitUsage, err);

  StatusBlock status;
  if (status_fd >= 0) {
    ScopedFd owned(status_fd);  // the mapping keeps the memory; the fd itself is not needed after mmap
    if (!status.Map(owned.get(), &err)) return Fail(result_fd, kExitCannotRun, err);
  } else if (!status.MapAnonymous(&err)) {
    return Fail(result_fd, kExitCannotRun, err);
  }

  if (!workload->Init(options.params, options.threads, &err)) {
    workload->Shutdown();
    return Fail(result_fd, kExitCannotRun, err);
  }
  TrialResult metrics;
  bool ran = RunWorkload(*workload, options, &status, &metrics, &err);
  workload->Shutdown();
  if (!ran) return Fail(result_fd, kExitCannotRun, err);

  std::string detail = workload->Detail();
  nlohmann::json result = WorkloadResultJson(info.name, detail, metrics);
  if (result_fd.is_open() && !WriteAll(result_fd.get(), result.dump() + "\n")) {
    PrintError(fmt::format("could not write the result to fd {}: {}", result_fd.get(), std::strerror(errno)));
    return kExitFailure;
  }
  std::string text = json ? result.dump(2) + "\n" : RenderRunSummary(info.name, detail, options, metrics);
  std::fputs(text.c_str(), stdout);
  return kExitOk;
}

}  // namespace cg
