#include "sweep/recorder.h"

#include "util/clock.h"
#include "util/strings.h"
#include "version.h"

namespace cg {

bool Recorder::OpenRun(const SweepOptions& opts, const std::function<nlohmann::json()>& fingerprint,
                       std::string* err) {
  const std::string key = SweepKey(opts);
  bool found = false;
  if (!store_->FindRunBySweepKey(key, &run_, &found, err)) return false;
  resumed_ = found;
  run_.argv = opts.argv;
  run_.command_line = Join(opts.argv, " ");
  run_.runs = static_cast<int>(opts.runs);
  run_.settings = StoppingSettingsJson(opts.stopping);
  run_.capture = CaptureMethodName(opts.capture);
  if (found) {
    run_.finished = false;
    return store_->UpdateRun(run_, err);
  }
  run_.created_at = UnixSeconds();
  run_.workload = opts.workload.empty() ? "exec" : opts.workload;
  run_.exec_argv = opts.exec_argv;
  run_.reference_target = !opts.workload.empty() && opts.reference_target;
  run_.grid = opts.grid;
  run_.params = opts.params;
  run_.duration_s = opts.duration_s;
  run_.grace_s = opts.grace_s < 0 ? DefaultGrace(opts.duration_s) : opts.grace_s;
  run_.crashgrid_version = CRASHGRID_VERSION;
  run_.crashgrid_commit = CRASHGRID_COMMIT;
  if (fingerprint) run_.environment = fingerprint();
  run_.sweep_key = key;
  return store_->InsertRun(&run_, err);
}

bool Recorder::LoadCounts(std::vector<TrialGroup>* groups, std::string* err) {
  groups->clear();
  if (!resumed_) return true;
  return store_->LoadTrialGroups(run_.id, run_.duration_s, groups, err);
}

bool Recorder::Commit(const Cell& cell, int repetition, const TrialResult& result, std::string* err) {
  return store_->InsertTrial(run_.id, cell, repetition, result, &last_trial_id_, err);
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
