#include "sweep/recorder.h"

#include <fmt/format.h>

#include "sweep/fingerprint.h"
#include "util/clock.h"
#include "util/strings.h"
#include "version.h"

namespace cg {

// The run this invocation would create, identity included.
static RunRecord NewRun(const SweepOptions& opts, nlohmann::json environment) {
  RunRecord run;
  run.created_at = UnixSeconds();
  run.workload = opts.workload.empty() ? "exec" : opts.workload;
  run.exec_argv = opts.exec_argv;
  run.reference_target = !opts.workload.empty() && opts.reference_target;
  run.grid = opts.grid;
  run.params = opts.params;
  run.duration_s = opts.duration_s;
  run.grace_s = opts.grace_s < 0 ? DefaultGrace(opts.duration_s) : opts.grace_s;
  run.crashgrid_version = CRASHGRID_VERSION;
  run.crashgrid_commit = CRASHGRID_COMMIT;
  run.environment = std::move(environment);
  run.sweep_key = SweepKey(opts);
  run.labels = opts.labels;
  run.env = opts.env;
  run.cwd = opts.cwd;
  run.identity = RunIdentity(run);
  run.shard = ShardName(opts.shard);
  return run;
}

bool Recorder::OpenRun(const SweepOptions& opts, const std::function<nlohmann::json()>& fingerprint,
                       std::string* err) {
  RunRecord fresh = NewRun(opts, fingerprint ? fingerprint() : nlohmann::json::object());
  std::vector<RunRecord> runs;
  if (!store_->LoadRuns(&runs, err)) return false;
  const RunRecord* same = nullptr;      // the newest run of this sweep with this identity
  const RunRecord* previous = nullptr;  // the newest run of this sweep
  for (const RunRecord& r : runs) {
    if (r.sweep_key != fresh.sweep_key) continue;
    if (!previous || r.id > previous->id) previous = &r;
    if (SameIdentity(r, fresh) && (!same || r.id > same->id)) same = &r;
  }
  if (same && !opts.new_run) {
    run_ = *same;
    resumed_ = true;
    note_ = fmt::format("continuing run {} (same sweep, machine, driver{} and labels; --new-run starts a separate "
                        "run)",
                        run_.id, run_.exec_argv.empty() ? "" : ", program");
    run_.argv = opts.argv;
    run_.command_line = ShellJoin(opts.argv);
    run_.runs = static_cast<int>(opts.runs);
    run_.settings = StoppingSettingsJson(opts.stopping);
    run_.capture = CaptureMethodName(opts.capture);
    run_.finished = false;
    return store_->UpdateRun(run_, err);
  }
  if (opts.resume) {
    refused_ = true;
    if (!previous) {
      *err = fmt::format("--resume: '{}' has no sweep with these settings (drop --resume to start one)",
                         store_->path());
    } else {
      *err = fmt::format("--resume: run {} cannot be continued here: {} (drop --resume to start a new run beside it)",
                         previous->id, IdentityDifference(*previous, fresh));
    }
    return false;
  }
  run_ = std::move(fresh);
  run_.argv = opts.argv;
  run_.command_line = ShellJoin(opts.argv);
  run_.runs = static_cast<int>(opts.runs);
  run_.settings = StoppingSettingsJson(opts.stopping);
  run_.capture = CaptureMethodName(opts.capture);
  if (!store_->InsertRun(&run_, err)) return false;
  if (previous && opts.new_run) {
    note_ = fmt::format("new run {} (--new-run; run {} has the same sweep and is kept apart)", run_.id, previous->id);
  } else if (previous) {
    note_ = fmt::format("new run {}: {} (same sweep otherwise; run {} is kept as it is; compare them with: "
                        "crashgrid compare {} --run {} --run {})",
                        run_.id, IdentityDifference(*previous, run_), previous->id, ShellQuote(store_->path()), previous->id, run_.id);
  }
  return true;
}

bool Recorder::LoadCounts(std::vector<TrialGroup>* groups, std::string* err) {
  groups->clear();
  if (!resumed_) return true;
  return store_->LoadTrialGroups(run_.id, run_.duration_s, groups, err);
}

bool Recorder::Commit(const Cell& cell, int repetition, const TrialResult& result, std::string* err,
                      const std::string& uid) {
  return store_->InsertTrial(run_.id, cell, repetition, result, &last_trial_id_, err, uid);
}

bool Recorder::LoadVerdicts(std::vector<CellVerdict>* verdicts, std::string* err) {
  verdicts->clear();
  if (!resumed_) return true;
  return store_->LoadCellVerdicts(run_.id, verdicts, err);
}

bool Recorder::SaveVerdict(CellVerdict verdict, std::string* err) {
  verdict.last_trial_id = last_trial_id_;
  return store_->SaveCellVerdict(run_.id, verdict, err);
}

bool Recorder::NoteWorkloadDetail(const std::string& detail, std::string* err) {
  if (!run_.workload_detail.empty() || detail.empty()) return true;
  run_.workload_detail = detail;
  return store_->UpdateRun(run_, err);
}

bool Recorder::Finish(std::string* err) {
  run_.finished = true;
  return store_->UpdateRun(run_, err);
}

}  // namespace cg
