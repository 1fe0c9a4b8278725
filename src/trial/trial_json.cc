#include "trial/trial_json.h"

namespace cg {

using nlohmann::json;

// Reads j[key] into out when present and not null; leaves out as it was otherwise.
template <typename T>
static void Get(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) it->get_to(out);
}

void to_json(json& j, const ErrorBucket& v) {
  j = json{{"phase", v.phase}, {"message", v.message}, {"count", v.count}, {"example", v.example}};
}
void from_json(const json& j, ErrorBucket& v) {
  Get(j, "phase", v.phase);
  Get(j, "message", v.message);
  Get(j, "count", v.count);
  Get(j, "example", v.example);
}

void to_json(json& j, const PhaseStats& v) {
  j = json{{"name", v.name}, {"count", v.count}, {"p50_ms", v.p50_ms}, {"p99_ms", v.p99_ms}, {"max_ms", v.max_ms}};
}
void from_json(const json& j, PhaseStats& v) {
  Get(j, "name", v.name);
  Get(j, "count", v.count);
  Get(j, "p50_ms", v.p50_ms);
  Get(j, "p99_ms", v.p99_ms);
  Get(j, "max_ms", v.max_ms);
}

void to_json(json& j, const ThreadStatus& v) {
  j = json{{"index", v.index},           {"tid", v.tid},           {"phase", v.phase},
           {"iterations", v.iterations}, {"successes", v.successes}, {"errors", v.errors}};
}
void from_json(const json& j, ThreadStatus& v) {
  Get(j, "index", v.index);
  Get(j, "tid", v.tid);
  Get(j, "phase", v.phase);
  Get(j, "iterations", v.iterations);
  Get(j, "successes", v.successes);
  Get(j, "errors", v.errors);
}

void to_json(json& j, const Frame& v) {
  j = json{{"pc", v.pc},         {"module", v.module}, {"build_id", v.build_id},
           {"offset", v.offset}, {"symbol", v.symbol}, {"symbol_offset", v.symbol_offset}};
  if (v.exported) j["exported"] = true;
  if (!v.file.empty()) {
    j["file"] = v.file;
    j["line"] = v.line;
  }
}
void from_json(const json& j, Frame& v) {
  Get(j, "pc", v.pc);
  Get(j, "module", v.module);
  Get(j, "build_id", v.build_id);
  Get(j, "offset", v.offset);
  Get(j, "symbol", v.symbol);
  Get(j, "symbol_offset", v.symbol_offset);
  Get(j, "exported", v.exported);
  Get(j, "file", v.file);
  Get(j, "line", v.line);
}

void to_json(json& j, const ThreadStack& v) {
  j = json{{"tid", v.tid},           {"name", v.name},     {"phase", v.phase},
           {"faulting", v.faulting}, {"frames", v.frames}, {"error", v.error}};
  if (v.state != 0) j["state"] = std::string(1, v.state);
  if (!v.api.empty()) j["api"] = v.api;
  if (!v.api_call.empty()) j["api_call"] = v.api_call;
  if (!v.api_outer.empty()) j["api_outer"] = v.api_outer;
  if (!v.api_caller.empty()) j["api_caller"] = v.api_caller;
  if (v.api_calls != 0) j["api_calls"] = v.api_calls;
  if (v.api_call_s != 0) j["api_call_s"] = v.api_call_s;
}
void from_json(const json& j, ThreadStack& v) {
  Get(j, "tid", v.tid);
  Get(j, "name", v.name);
  Get(j, "phase", v.phase);
  Get(j, "faulting", v.faulting);
  Get(j, "frames", v.frames);
  Get(j, "error", v.error);
  std::string state;
  Get(j, "state", state);
  v.state = state.empty() ? 0 : state[0];
  Get(j, "api", v.api);
  Get(j, "api_call", v.api_call);  // the five api_* keys are absent in records written before the agent tracked
  Get(j, "api_outer", v.api_outer);
  Get(j, "api_caller", v.api_caller);
  Get(j, "api_calls", v.api_calls);
  Get(j, "api_call_s", v.api_call_s);
}

void to_json(json& j, const CrashReport& v) {
  j = json{{"method", v.method},
           {"signal", v.signal},
           {"si_code", v.si_code},
           {"fault_address", v.fault_address},
           {"has_fault_address", v.has_fault_address},
           {"faulting_tid", v.faulting_tid},
           {"faulting_thread_name", v.faulting_thread_name},
           {"representative_tid", v.representative_tid},
           {"threads", v.threads},
           {"capture_ms", v.capture_ms},
           {"error", v.error}};
}
void from_json(const json& j, CrashReport& v) {
  Get(j, "method", v.method);
  Get(j, "signal", v.signal);
  Get(j, "si_code", v.si_code);
  Get(j, "fault_address", v.fault_address);
  Get(j, "has_fault_address", v.has_fault_address);
  Get(j, "faulting_tid", v.faulting_tid);
  Get(j, "faulting_thread_name", v.faulting_thread_name);
  Get(j, "representative_tid", v.representative_tid);
  Get(j, "threads", v.threads);
  Get(j, "capture_ms", v.capture_ms);
  Get(j, "error", v.error);
}

void to_json(json& j, const GridAxis& v) { j = json{{"name", v.name}, {"values", v.values}}; }
void from_json(const json& j, GridAxis& v) {
  Get(j, "name", v.name);
  Get(j, "values", v.values);
}

void to_json(json& j, const TrialResult& v) {
  j = json{{"outcome", OutcomeName(v.outcome)},
           {"exit_code", v.exit_code},
           {"signal", v.signal},
           {"via_shell", v.via_shell},
           {"detail", v.detail},
           {"started_at", v.started_at},
           {"duration_s", v.duration_s},
           {"time_to_outcome_s", v.time_to_outcome_s},
           {"iterations", v.iterations},
           {"successes", v.successes},
           {"errors", v.errors},
           {"units", v.units},
           {"units_name", v.units_name},
           {"workload_seconds", v.workload_seconds},
           {"setup_s", v.setup_s},
           {"teardown_s", v.teardown_s},
           {"error_buckets", v.error_buckets},
           {"phases", v.phases},
           {"threads", v.threads},
           {"stdout_tail", v.stdout_tail},
           {"stderr_tail", v.stderr_tail},
           {"capture_method", v.capture_method},
           {"signature", v.signature}};
  j["report"] = v.report ? json(*v.report) : json(nullptr);
}
void from_json(const json& j, TrialResult& v) {
  std::string outcome;
  Get(j, "outcome", outcome);
  if (!outcome.empty()) ParseOutcome(outcome, &v.outcome);
  Get(j, "exit_code", v.exit_code);
  Get(j, "signal", v.signal);
  Get(j, "via_shell", v.via_shell);
  Get(j, "detail", v.detail);
  Get(j, "started_at", v.started_at);
  Get(j, "duration_s", v.duration_s);
  Get(j, "time_to_outcome_s", v.time_to_outcome_s);
  Get(j, "iterations", v.iterations);
  Get(j, "successes", v.successes);
  Get(j, "errors", v.errors);
  Get(j, "units", v.units);
  Get(j, "units_name", v.units_name);
  Get(j, "workload_seconds", v.workload_seconds);
  Get(j, "setup_s", v.setup_s);
  Get(j, "teardown_s", v.teardown_s);
  Get(j, "error_buckets", v.error_buckets);
  Get(j, "phases", v.phases);
  Get(j, "threads", v.threads);
  Get(j, "stdout_tail", v.stdout_tail);
  Get(j, "stderr_tail", v.stderr_tail);
  Get(j, "capture_method", v.capture_method);
  Get(j, "signature", v.signature);
  if (j.contains("report") && !j["report"].is_null()) v.report = j["report"].get<CrashReport>();
}

}  // namespace cg
