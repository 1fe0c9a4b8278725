// crashgrid sweep: a workload (or any program) over a grid of settings, each trial supervised.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <limits>
#include <tuple>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "store/store.h"
#include "sweep/amplify.h"
#include "sweep/api_serialize.h"
#include "sweep/grid.h"
#include "sweep/stopping.h"
#include "sweep/sweep.h"
#include "util/error.h"
#include "util/strings.h"
#include "report/escape.h"
#include "report/junit.h"
#include "report/live.h"
#include "report/output.h"
#include "report/table.h"
#include "stats/stats.h"
#include "stats/stopping_settings.h"
#include "runtime/runner.h"
#include "runtime/workload.h"
#include "nvidia/nvml.h"

namespace cg {
namespace {

// Loads the run's trials and writes the JUnit report to `path`, streamed: a run of a million trials folds into
// one record per cell. On failure *err names the file or the database problem.
bool WriteJunitFile(Store& store, int64_t run_id, const std::string& path, std::string* err) {
  RunRecord run;
  if (!store.LoadRun(run_id, &run, err)) return false;
  JunitBuilder junit;
  if (!store.ForEachTrial(run_id, /*full=*/false, [&](const StoredTrial& t) {
        junit.Add(t);
        return true;
      }, err)) {
    return false;
  }
  return WriteTextFile(path, junit.Render(run), err);
}

// The run's table as `sweep --format` prints it after the sweep: its groups and stored verdicts, rendered.
bool RenderStoredTable(Store& store, int64_t run_id, const TableOptions& options, std::string* out,
                       std::string* err) {
  RunRecord run;
  std::vector<TrialGroup> groups;
  if (!store.LoadRun(run_id, &run, err) || !store.LoadTrialGroups(run_id, run.duration_s, &groups, err) ||
      !store.LoadCellVerdicts(run_id, &run.verdicts, err))
    return false;
  return RenderTable(run, groups, options, out, err);
}

const char kSweepUsage[] = R"(Runs WORKLOAD (or the program after --exec) over a grid of settings, each trial in its own
supervised process, and records every trial in an SQLite file.

  crashgrid sweep reference-race --grid threads=1,2,4 --grid sessions=1,4 --runs 10 --duration 2s --db ref.db
  crashgrid sweep gst --grid threads=1..8 --grid branches=1..4 --runs 20 --db gst.db
  crashgrid sweep --grid THREAD_COUNT=1..12 --grid ENCODERS_PER_PIPELINE=1..12 --runs 69 --db seed.db --exec -- ./run.sh

Grid specs: NAME=1..12, NAME=1..12:2 (step), NAME=1,2,4,8, NAME=none,all,open+close.
Built-in workloads take `threads`, `serialize`, `amplify` and their parameters (crashgrid workloads) as axes;
--exec programs take `serialize` and `amplify` too (and get them as variables like any axis). An --exec
program gets every grid axis and every --param K=V as an environment variable under the same name (the
cell's value: --grid THREADS=1,4 sets THREADS=1 or THREADS=4; --param MODE=fast sets MODE=fast), and {NAME}
in its arguments is replaced by the value; --env NAME[=VALUE] adds variables of your own. It runs in the
current directory, which the run records (with the --env variables) for the reproductions reports print.
Re-running the same command on the same --db continues the sweep (so does --resume --db FILE alone):
nothing recorded is run again. It continues only a run of the same machine (host, GPUs, NVIDIA driver),
crashgrid version, --exec program build (ELF build-id, else the file's hash) and working directory, --label
and --env values; when one of them changed, a new run starts and the first line says what differs.
--new-run always starts a new run. Ctrl-C, SIGTERM or SIGHUP stop at once: the trials in flight are killed
and not recorded, the rest stays recorded, and the exit code is 128 + the signal (130, 143, 129).

Watching: by default (--capture attach) nothing is traced until a crash: the preloaded agent reports the fault,
then every thread is seized and unwound. A built-in workload's clock starts at its start barrier; set-up and
tear-down have their own bounds. Past a bound, progress during --stall-window means overran (slow, killed, not
a crash), none means hung. Crashes are crashed or hung trials; failed and overran trials count for no verdict.)";

std::atomic<bool> g_stop{false};
std::atomic<bool> g_abort{false};
std::atomic<int> g_signal{0};  // the first SIGINT, SIGTERM or SIGHUP received (0: none)
static_assert(std::atomic<int>::is_always_lock_free, "g_signal is set from a signal handler");

// SIGINT, SIGTERM and SIGHUP stop the sweep at once: the trials in flight are cancelled (the supervisor kills
// their process groups and reaps them, within its 50 ms poll) and discarded, what finished before stays
// recorded, and crashgrid exits 128 + the signal's number. A second signal exits at once; the trials' processes
// then die with crashgrid (PR_SET_PDEATHSIG, and the reaper guard for those that left the group).
void OnSignal(int sig) {
  int none = 0;
  if (!g_signal.compare_exchange_strong(none, sig)) {
    static const char msg[] = "\ncrashgrid: second signal: exiting now\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(128 + sig);
  }
  g_stop.store(true);
  g_abort.store(true);
  static const char msg[] =
      "\ncrashgrid: stopping: the trials in flight are killed and not recorded (a second signal exits now)\n";
  (void)!write(2, msg, sizeof(msg) - 1);
}

struct Flags {
  std::string workload;
  std::vector<std::string> grid;
  std::vector<std::string> params;
  int64_t runs = 10;
  std::string duration = "5s";
  std::string grace;
  static constexpr int kThreadsUnset = std::numeric_limits<int>::min();
  int threads = kThreadsUnset;  // --threads 0 is given, and refused like --grid threads=0
  std::string serialize;
  std::string amplify;
  std::string progress_api;
  int jobs = 1;
  std::string db;
  bool resume = false;
  std::string capture = "attach";
  std::string setup_timeout = "120s";
  std::string teardown_timeout = "60s";
  std::string stall_window = "2s";
  std::string until = "runs";
  double p0 = 0.01, p1 = 0.10, alpha = 0.05, beta = 0.05;
  bool refine = false;
  double refine_width = 0.2;
  int64_t refine_budget = 0;
  uint64_t seed = 0;
  bool no_live = false;
  std::string junit;
  std::string format = "percent";
  bool quiet = false;
  std::vector<std::string> labels;
  std::vector<std::string> env;
  bool new_run = false;
  std::string shard;
  std::string gpus;
  std::vector<std::string> config_exec;  // `exec = [...]` of a --config file
};

void AddFlags(CLI::App& app, Flags& f) {
  app.add_option("workload", f.workload, "built-in workload (crashgrid workloads lists them)");
  app.add_option("--grid", f.grid, "NAME=SPEC grid axis (repeatable); for --exec each cell's value is the "
                                  "environment variable NAME")->type_name("NAME=SPEC");
  app.add_option("--runs", f.runs, "trials per cell (the cap with --until decided)")
      ->default_val(10)->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  app.add_option("--duration", f.duration, "how long each trial's workload runs (ms, s, m)")->default_val("5s");
  app.add_option("--grace", f.grace, "time an iteration in flight at the deadline may take to end (default: "
                                     "max(5s, duration/2))");
  app.add_option("--setup-timeout", f.setup_timeout, "built-in workloads: bound on set-up (process start to the "
                                                     "start barrier, where the trial's clock starts)")
      ->default_val("120s");
  app.add_option("--teardown-timeout", f.teardown_timeout, "built-in workloads: bound on tear-down after "
                                                           "--duration + --grace")
      ->default_val("60s");
  app.add_option("--stall-window", f.stall_window, "past a bound, how long to watch for progress: some -> "
                                                   "overran (slow, not stuck), none -> hung")
      ->default_val("2s");
  app.add_option("--threads", f.threads, "workload threads when not an axis (default: $THREAD_COUNT or 1)");
  app.add_option("--param", f.params, "KEY=VALUE fixed parameter (repeatable): a built-in workload's parameter; "
                                     "for --exec the environment variable KEY=VALUE of the program (and {KEY} in "
                                     "its arguments)")->type_name("KEY=VALUE");
  app.add_option("--env", f.env, "NAME[=VALUE] environment variable passed to every trial (repeatable); NAME "
                                 "alone passes crashgrid's own value. Recorded with the run, part of its identity")
      ->type_name("NAME[=VALUE]");
  app.add_option("--label", f.labels, "KEY=VALUE label of the run (repeatable; KEY: letters, digits, _ . -), e.g. "
                                      "--label driver=570: shown in every header, part of the run's identity "
                                      "(another value starts another run), crashgrid compare DB --by label:KEY")
      ->type_name("KEY=VALUE");
  app.add_flag("--new-run", f.new_run, "start a new run even if one with the same sweep and identity is recorded");
  app.add_option("--serialize", f.serialize,
                 "none|all|PHASE[,PHASE...] process-wide mutex around phases; for --exec: API groups (" +
                     Join(ApiSerializeGroups(), ", ") + ") or globs (cuvidCreate*) the agent locks around");
  app.add_option("--amplify", f.amplify,
                 "off|on|P: make races show up sooner: the agent delays thread starts (every other one) and a "
                 "share P (on: 0.1) of API and phase entries by 1 us to 2 ms (log-uniform), seeded per trial from "
                 "its uid; part of the sweep (a plain run is never continued with it). Also an axis: --grid "
                 "amplify=off,on (default: off)")
      ->type_name("off|on|P");
  app.add_option("--progress-api", f.progress_api,
                 "for --exec: count calls of this API function (gst_element_set_state) as the program's "
                 "iterations (mitigations' throughput); default: none");
  app.add_option("--jobs", f.jobs, "trials side by side (GPU trials must not overlap)")
      ->default_val(1)->check(CLI::Range(1, 256));
  app.add_option("--db", f.db, "SQLite file the trials are recorded in (created if missing)");
  app.add_flag("--resume", f.resume, "continue the last sweep recorded in --db (or, with a sweep's options, that "
                                     "sweep's run); fails rather than start a new run");
  app.add_option("--capture", f.capture, "attach|trace|handler|none: attach (default) seizes the threads only "
                                         "at a crash or hang; trace follows the trial with ptrace from its start "
                                         "(staggers thread start-up: can hide start-up races); handler records the "
                                         "faulting thread in-process (no ptrace); none records outcomes only")
      ->default_val("attach");
  app.add_option("--until", f.until, "runs|decided: run every cell --runs times, or stop each cell at its "
                                     "SPRT verdict (--runs is then the cap)")->default_val("runs");
  app.add_option("--p0", f.p0, "SPRT: crash probability of a SAFE cell")->default_val(0.01);
  app.add_option("--p1", f.p1, "SPRT: crash probability of a CRASHES cell")->default_val(0.10);
  app.add_option("--alpha", f.alpha, "SPRT: false CRASHES rate")->default_val(0.05);
  app.add_option("--beta", f.beta, "SPRT: false SAFE rate")->default_val(0.05);
  app.add_flag("--refine", f.refine, "after the verdicts, refine the least certain cells (APT)");
  app.add_option("--refine-width", f.refine_width, "refine until Wilson intervals are this narrow")
      ->default_val(0.2);
  app.add_option("--refine-budget", f.refine_budget, "most extra trials for --refine (default 0: 10 per cell)");
  app.add_option("--seed", f.seed, "random seed for the order of cells in a round (default: clock)");
  app.add_flag("--no-live", f.no_live, "plain progress lines even on a terminal");
  app.add_option("--junit", f.junit, "also write a JUnit XML file (a test case per cell)");
  app.add_option("--format", f.format, "table printed at the end: percent|seed|markdown|verdict|none")
      ->default_val("percent");
  app.add_flag("-q,--quiet", f.quiet, "no progress output");
  app.add_option("--shard", f.shard, "K/N: run only the cells i of the grid (in grid order) with i mod N = K, "
                                     "K from 0 (a Slurm array task: --shard $SLURM_ARRAY_TASK_ID/N); each shard "
                                     "its own --db, combined by crashgrid merge")
      ->type_name("K/N");
  app.add_option("--gpus", f.gpus, "all|0,2,3: trials side by side, --jobs per GPU (default 1), each round running "
                                   "every cell once on every GPU; each trial gets CUDA_VISIBLE_DEVICES of its GPU "
                                   "and records the GPU's index and UUID (table --by gpu). --runs is rounded up "
                                   "to a multiple of the GPUs")
      ->type_name("all|LIST");
  // --config FILE: any option above as `name = value` (TOML or INI; repeatable options as arrays), the workload as
  // `workload = "gst"` and an --exec program as `exec = ["./run.sh", "arg"]`. The command line wins over the file.
  app.set_config("--config", "", "TOML/INI file of sweep options (see contrib/sweep.toml); the command line "
                                 "overrides it")
      ->type_name("FILE");
  app.add_option("--exec", f.config_exec, "")->group("")->configurable(true);  // the config file's `exec = [...]`
  if (CLI::Option* w = app.get_option_no_throw("workload")) w->configurable(true);
}

bool ParseLabels(const std::vector<std::string>& flags, std::map<std::string, std::string>* labels,
                 std::string* err) {
  for (const auto& l : flags) {
    size_t eq = l.find('=');
    std::string key = l.substr(0, eq);
    bool ok = eq != std::string::npos && !key.empty();
    for (char c : key) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
    if (!ok) {
      *err = fmt::format("--label '{}' is not KEY=VALUE with a KEY of letters, digits, '_', '.' or '-' (e.g. "
                         "--label driver=570)",
                         l);
      return false;
    }
    if (!labels->emplace(key, l.substr(eq + 1)).second) {
      *err = fmt::format("--label {} is given twice (keep one value)", key);
      return false;
    }
  }
  return true;
}

bool ParseEnv(const std::vector<std::string>& flags, std::map<std::string, std::string>* env, std::string* err) {
  for (const auto& e : flags) {
    size_t eq = e.find('=');
    std::string name = e.substr(0, eq);
    bool ok = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
    for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!ok) {
      *err = fmt::format("--env '{}' is not NAME or NAME=VALUE with a NAME of letters, digits and '_' (e.g. --env "
                         "GST_DEBUG=3)",
                         e);
      return false;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = e.substr(eq + 1);
    } else if (const char* v = getenv(name.c_str())) {
      value = v;
    } else {
      *err = fmt::format("--env {}: {} is not set in crashgrid's environment (set it, or give --env {}=VALUE)", name,
                         name, name);
      return false;
    }
    if (!env->emplace(name, value).second) {
      *err = fmt::format("--env {} is given twice (keep one)", name);
      return false;
    }
  }
  return true;
}

// Checks everything about the sweep before anything is run or written.
// Every {NAME} in the program's arguments must name a grid axis or a --param: a typo would otherwise reach the
// program as the literal text. ${NAME} is a shell's expansion (sh -c '... ${HOME}'), not a placeholder.
bool CheckPlaceholders(const std::vector<std::string>& exec_argv, const SweepOptions& o, std::string* err) {
  std::vector<std::string> known;
  for (const auto& a : o.grid) known.push_back(a.name);
  for (const auto& [k, v] : o.params) known.push_back(k);
  auto ident = [](char c, bool first) { return c == '_' || std::isalpha(static_cast<unsigned char>(c)) ||
                                               (!first && std::isdigit(static_cast<unsigned char>(c))); };
  for (size_t i = 1; i < exec_argv.size(); ++i) {
    const std::string& arg = exec_argv[i];
    for (size_t open = arg.find('{'); open != std::string::npos; open = arg.find('{', open + 1)) {
      size_t end = open + 1;
      while (end < arg.size() && ident(arg[end], end == open + 1)) ++end;
      if (end == open + 1 || end >= arg.size() || arg[end] != '}') continue;
      if (open > 0 && arg[open - 1] == '$') continue;
      std::string name = arg.substr(open + 1, end - open - 1);
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      *err = fmt::format("--exec argument '{}' has the placeholder {{{}}}, which is no grid axis or --param{} "
                         "(known: {})",
                         arg, name, DidYouMean(name, known), known.empty() ? "none" : Join(known, ", "));
      return false;
    }
  }
  return true;
}

bool BuildOptions(const Flags& f, const std::vector<std::string>& exec_argv, SweepOptions* o, std::string* err) {
  o->workload = f.workload;
  o->exec_argv = exec_argv;
  o->runs = f.runs;
  o->jobs = f.jobs;
  o->seed = f.seed;
  if (f.workload.empty() && exec_argv.empty()) {
    *err = "no workload given (name one, e.g. `crashgrid sweep reference-race ...`, or end the command with "
           "--exec -- PROGRAM ARGS...; crashgrid workloads lists them)";
    return false;
  }
  if (!f.workload.empty() && !exec_argv.empty()) {
    *err = fmt::format("both a workload ('{}') and --exec were given (use one)", f.workload);
    return false;
  }
  if (f.db.empty()) {
    *err = "no --db FILE given (the SQLite file the trials are recorded in)";
    return false;
  }
  if (!ParseDuration(f.duration, &o->duration_s, err)) {
    *err = "--duration: " + *err;
    return false;
  }
  if (!CheckTrialBound("--duration", f.duration, o->duration_s, /*positive=*/true, err)) return false;
  if (!f.grace.empty()) {
    if (!ParseDuration(f.grace, &o->grace_s, err)) {
      *err = "--grace: " + *err;
      return false;
    }
    if (!CheckTrialBound("--grace", f.grace, o->grace_s, /*positive=*/false, err)) return false;
  }
  if (!ParseCaptureMethod(f.capture, &o->capture)) {
    *err = fmt::format("unknown --capture '{}'{} (use attach, trace, handler or none)", f.capture,
                       DidYouMean(f.capture, {"attach", "trace", "handler", "none"}));
    return false;
  }
  for (auto [flag, text, out] : {std::tuple{"--setup-timeout", &f.setup_timeout, &o->setup_timeout_s},
                                 std::tuple{"--teardown-timeout", &f.teardown_timeout, &o->teardown_timeout_s},
                                 std::tuple{"--stall-window", &f.stall_window, &o->stall_window_s}}) {
    if (!ParseDuration(*text, out, err)) {
      *err = fmt::format("{}: {}", flag, *err);
      return false;
    }
    if (!CheckTrialBound(flag, *text, *out, /*positive=*/true, err)) return false;
  }
  if (f.until != "runs" && f.until != "decided") {
    *err = fmt::format("unknown --until '{}'{} (use runs or decided)", f.until,
                       DidYouMean(f.until, {"runs", "decided"}));
    return false;
  }
  StoppingSettings& stop = o->stopping;
  stop.until = f.until == "decided" ? StoppingSettings::Until::kDecided : StoppingSettings::Until::kRuns;
  stop.sprt = SprtParams{f.p0, f.p1, f.alpha, f.beta};
  if (!ValidateSprtParams(stop.sprt, err)) return false;
  stop.refine = f.refine;
  stop.apt.theta = DefaultRefineTheta(stop.sprt);
  stop.apt.width = f.refine_width;
  stop.refine_budget = f.refine_budget;
  // What is stored is what is checked: the settings go through the one parser that reads them back.
  if (!ParseStoppingSettings(StoppingSettingsJson(stop), &stop, err)) return false;

  for (const auto& g : f.grid) {
    GridAxis axis;
    if (!ParseGridAxis(g, &axis, err)) return false;
    for (const auto& a : o->grid) {
      if (a.name == axis.name) {
        *err = fmt::format("grid axis '{}' is given twice (merge the values into one --grid)", axis.name);
        return false;
      }
    }
    o->grid.push_back(std::move(axis));
  }
  for (const auto& p : f.params) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      *err = fmt::format("--param '{}' is not KEY=VALUE", p);
      return false;
    }
    o->params[p.substr(0, eq)] = p.substr(eq + 1);
  }
  if (!f.serialize.empty()) o->params["serialize"] = f.serialize;
  // --amplify off is the plain sweep (the same key as no flag); any other value is checked for both kinds of
  // workload, fixed or as an axis.
  double amplify_p = 0;
  if (!f.amplify.empty()) {
    if (!ParseAmplify(f.amplify, "--amplify", &amplify_p, err)) return false;
    if (amplify_p > 0) o->params["amplify"] = f.amplify;
  }
  for (const auto& a : o->grid) {
    if (a.name != "amplify") continue;
    for (const auto& v : a.values)
      if (!ParseAmplify(v, "--grid amplify", &amplify_p, err)) return false;
  }
  auto is_axis = [&](const std::string& name) {
    for (const auto& a : o->grid)
      if (a.name == name) return true;
    return false;
  };
  for (const auto& [k, v] : o->params) {
    if (is_axis(k)) {
      *err = fmt::format("'{}' is both a grid axis and a fixed value (drop one)", k);
      return false;
    }
  }
  if (!ParseLabels(f.labels, &o->labels, err) || !ParseEnv(f.env, &o->env, err)) return false;
  for (const auto& [name, value] : o->env) {
    if (is_axis(name) || o->params.count(name)) {
      *err = fmt::format("--env {}: '{}' is also a {} (the program gets it from there; drop the --env)", name, name,
                         is_axis(name) ? "grid axis" : "--param");
      return false;
    }
  }
  if (f.new_run && f.resume) {
    *err = "--new-run and --resume contradict each other (drop one)";
    return false;
  }
  o->new_run = f.new_run;
  o->resume = f.resume;
  if (!f.shard.empty() && !ParseShard(f.shard, &o->shard, err)) return false;
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd)) o->cwd = cwd;

  if (!exec_argv.empty()) {
    if (!f.progress_api.empty()) o->env["CRASHGRID_PROGRESS_API"] = f.progress_api;  // read by the supervisor
    if (f.threads != Flags::kThreadsUnset) {
      *err = "--threads applies to built-in workloads; for --exec use --grid or --param, which become "
             "environment variables";
      return false;
    }
    if (o->params.count("serialize") && !CheckApiSerialize(o->params["serialize"], "--serialize", err)) return false;
    for (const auto& a : o->grid) {
      if (a.name != "serialize") continue;
      for (const auto& v : a.values)
        if (!CheckApiSerialize(v, "--grid serialize", err)) return false;
    }
    if (!CheckPlaceholders(exec_argv, *o, err)) return false;
    return ResolveProgram(exec_argv[0], err);
  }
  if (!f.progress_api.empty()) {
    *err = "--progress-api applies to --exec programs (built-in workloads count their own iterations)";
    return false;
  }

  // A built-in workload: names and values are checked against it now, not in the first trial.
  auto w = CreateWorkload(f.workload);
  if (!w) {
    *err = fmt::format("unknown workload '{}'{} (crashgrid workloads lists them)", f.workload,
                       DidYouMean(f.workload, WorkloadNames()));
    return false;
  }
  const WorkloadInfo& info = w->info();
  o->reference_target = info.reference_target;
  std::vector<std::string> names = {"threads", "serialize", "amplify"};
  for (const auto& p : info.params) names.push_back(p.name);
  auto check_name = [&](const std::string& n, const char* what) {
    if (std::find(names.begin(), names.end(), n) != names.end()) return true;
    *err = fmt::format("workload '{}' has no parameter '{}' ({}){}", f.workload, n, what, DidYouMean(n, names));
    if (err->back() != '?') *err += fmt::format("; it takes: {}", Join(names, ", "));
    return false;
  };
  for (const auto& a : o->grid)
    if (!check_name(a.name, "--grid")) return false;
  for (const auto& [k, v] : o->params)
    if (!check_name(k, "--param")) return false;
  if (!is_axis("threads") && !o->params.count("threads")) {
    int threads = f.threads;
    if (threads == Flags::kThreadsUnset) {
      long long env_threads = 0;
      const char* e = getenv("THREAD_COUNT");
      threads = (e && ParseInt(e, &env_threads) && env_threads > 0) ? static_cast<int>(env_threads) : 1;
    }
    o->params["threads"] = std::to_string(threads);
  } else if (f.threads != Flags::kThreadsUnset) {
    *err = "--threads is given but threads is a grid axis (drop one)";
    return false;
  }
  // Every cell's values must be valid for the workload.
  for (const auto& cell : ExpandGrid(o->grid)) {
    std::map<std::string, std::string> values = o->params;
    for (const auto& [k, v] : cell) values[k] = v;
    long long threads = 0;
    if (!ParseInt(values["threads"], &threads) || threads < 1 || threads > 1024) {
      *err = fmt::format("threads '{}' must be an integer from 1 to 1024", values["threads"]);
      return false;
    }
    if (values.count("serialize")) {
      std::vector<std::string> phases;
      if (!ParseSerialize(values["serialize"], info.phases, &phases, err)) return false;
    }
    std::map<std::string, std::string> wparams;
    for (const auto& [k, v] : values)
      if (k != "threads" && k != "serialize" && k != "amplify") wparams[k] = v;
    if (!w->Validate(Params(wparams), static_cast<int>(threads), err)) return false;
  }
  return true;
}

// --gpus all|0,2,3 against what NVML reports. False with *err and *code (kExitCannotRun without NVIDIA GPUs,
// kExitUsage for a list that is not one of this machine's GPUs).
bool ResolveGpus(const std::string& spec, std::vector<GpuSlot>* gpus, std::string* err, int* code) {
  NvmlInfo info;
  std::string why;
  if (!QueryNvml(&info, &why) || info.gpus.empty()) {
    *err = fmt::format("--gpus {}: this machine has no NVIDIA GPU NVML can see ({}); drop --gpus",
                       spec, why.empty() ? "no GPUs" : why);
    *code = kExitCannotRun;
    return false;
  }
  *code = kExitUsage;
  std::vector<int> indexes;
  if (spec == "all") {
    for (size_t i = 0; i < info.gpus.size(); ++i) indexes.push_back(static_cast<int>(i));
  } else {
    for (const std::string& part : Split(spec, ',')) {
      long long i = -1;
      if (!ParseInt(part, &i) || i < 0 || i >= static_cast<long long>(info.gpus.size())) {
        *err = fmt::format("--gpus '{}': '{}' is not a GPU index of this machine (it has {}: 0 to {}; or use --gpus "
                           "all)",
                           spec, part, info.gpus.size(), info.gpus.size() - 1);
        return false;
      }
      if (std::find(indexes.begin(), indexes.end(), static_cast<int>(i)) != indexes.end()) {
        *err = fmt::format("--gpus '{}': GPU {} is given twice", spec, i);
        return false;
      }
      indexes.push_back(static_cast<int>(i));
    }
  }
  for (int i : indexes) {
    const NvmlGpu& g = info.gpus[static_cast<size_t>(i)];
    gpus->push_back(GpuSlot{i, g.uuid, g.name});
  }
  return true;
}

}  // namespace

int CmdSweep(const Args& all_args) {
  auto [args, exec_argv] = SplitExec(all_args);
  CLI::App app{kSweepUsage, "crashgrid sweep"};
  Flags f;
  AddFlags(app, f);
  // SplitExec leaves "--exec" among crashgrid's own args when no program follows it (the hidden --exec option
  // is for --config files' `exec = [...]` only).
  if (std::find(args.begin(), args.end(), "--exec") != args.end()) {
    PrintError("--exec needs a program: --exec -- PROGRAM ARGS... (see crashgrid sweep --help)");
    return kExitUsage;
  }
  if (int rc = ParseCli(app, args); rc >= 0) return rc;
  if (exec_argv.empty()) exec_argv = f.config_exec;

  // --resume alone: continue the latest sweep of the file with its own command line.
  if (f.resume && f.workload.empty() && exec_argv.empty() && f.grid.empty()) {
    if (f.db.empty()) {
      PrintError("--resume needs --db FILE (the file the sweep was recorded in)");
      return kExitUsage;
    }
    if (f.new_run) {
      PrintError("--new-run and --resume contradict each other (drop one)");
      return kExitUsage;
    }
    std::string err;
    int code = 0;
    auto store = Store::Open(f.db, Store::Mode::kReadOnly, &err, &code);
    if (!store) {
      PrintError(err);
      return code;
    }
    std::vector<RunRecord> runs;
    if (!store->LoadRuns(&runs, &err) || runs.empty()) {
      PrintError(fmt::format("nothing to resume in '{}': it has no sweep", f.db));
      return kExitUsage;
    }
    const RunRecord& last = runs.back();
    if (last.argv.size() < 2) {
      PrintError(fmt::format("run {} in '{}' has no stored command line to resume", last.id, f.db));
      return kExitDatabase;
    }
    // Its own command line, as a --resume: continue it, never start another run (--new-run dropped). The run
    // continued is the newest of that sweep whose identity matches this machine (the note says which).
    Args again = {"--resume"};
    for (auto it = last.argv.begin() + 2; it != last.argv.end(); ++it) {
      if (*it == "--exec") {
        again.insert(again.end(), it, last.argv.end());
        break;
      }
      if (*it != "--new-run" && *it != "--resume") again.push_back(*it);
    }
    return CmdSweep(again);
  }

  SweepOptions opts;
  std::string err;
  if (!BuildOptions(f, exec_argv, &opts, &err)) {
    PrintError(err);
    return kExitUsage;
  }
  opts.argv = {"crashgrid", "sweep"};
  opts.argv.insert(opts.argv.end(), all_args.begin(), all_args.end());
  if (!f.gpus.empty()) {
    int gpu_code = 0;
    if (!ResolveGpus(f.gpus, &opts.gpus, &err, &gpu_code)) {
      PrintError(err);
      return gpu_code;
    }
    for (const char* name : {"CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER"}) {
      if (opts.env.count(name)) {
        PrintError(fmt::format("--env {} and --gpus both choose the GPU (drop one)", name));
        return kExitUsage;
      }
    }
    int64_t g = static_cast<int64_t>(opts.gpus.size());
    if (opts.runs % g) {
      int64_t rounded = (opts.runs / g + 1) * g;
      PrintWarning(fmt::format("--runs {} rounded up to {}: each round runs every cell on each of the {} GPUs",
                               opts.runs, rounded, g));
      opts.runs = rounded;
    }
  }
  if (std::string w = RunsCapWarning(opts.stopping, opts.runs); !w.empty()) PrintWarning(w);

  TableOptions table_options;
  if (f.format != "none" && !ParseTableFormat(f.format, &table_options.format, &err)) {
    PrintError("--format: " + err);
    return kExitUsage;
  }
  int code = 0;
  auto store = Store::Open(f.db, Store::Mode::kCreate, &err, &code);
  if (!store || !store->LockForSweep(&err, &code)) {
    PrintError(err);
    return code;
  }
  std::unique_ptr<ProgressObserver> observer;
  if (!f.quiet) observer = NewProgressObserver(stderr, f.no_live);

  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);

  SupervisorRunner runner;
  SweepIo io;
  io.store = store.get();
  io.runner = &runner;
  io.observer = observer.get();
  io.self_exe = SelfExe();
  io.fingerprint = [&io, &opts]() { return CollectFingerprint(io.self_exe, opts); };
  io.note = [](const std::string& line) { std::fprintf(stderr, "crashgrid: %s\n", TerminalText(line).c_str()); };
  SweepOutcome outcome;
  bool ok = RunSweep(opts, io, &g_stop, &g_abort, &outcome, &err);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) signal(sig, SIG_DFL);
  if (!ok && outcome.refused) {
    PrintError(err);
    return kExitUsage;
  }
  if (!ok) {
    PrintError(fmt::format("sweep stopped: {} (what was recorded in '{}' is kept; re-run the command to go on)",
                           err, f.db));
    return kExitFailure;
  }

  if (!f.junit.empty() && !WriteJunitFile(*store, outcome.run_id, f.junit, &err)) {
    PrintError(err);
    return kExitFailure;
  }
  if (f.format != "none") {
    std::string table;
    if (!RenderStoredTable(*store, outcome.run_id, table_options, &table, &err)) {
      PrintError(err);
      return kExitFailure;
    }
    std::fputs(table.c_str(), stdout);
  }
  if (outcome.cells_unrunnable) {
    PrintWarning(fmt::format("{} cell(s) could not start on this machine: {}", outcome.cells_unrunnable,
                             outcome.unrunnable_reason));
  }
  if (outcome.interrupted) {
    std::fprintf(stderr, "crashgrid: interrupted with %lld trials recorded in '%s'; resume with: crashgrid sweep "
                 "--resume --db %s\n", static_cast<long long>(outcome.trials_total), f.db.c_str(),
                 ShellQuote(f.db).c_str());
    int sig = g_signal.load();
    return sig ? 128 + sig : kExitInterrupted;
  }
  if (outcome.cells_unrunnable == outcome.cells_total) return kExitCannotRun;
  return kExitOk;
}

}  // namespace cg
