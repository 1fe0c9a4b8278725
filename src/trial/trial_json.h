// JSON forms of the trial records. Used for the result a workload process hands its supervisor, for the
// JSON columns of the store, and for `--json` output. Field names are the struct member names.
#pragma once

#include <nlohmann/json.hpp>

#include "trial/run.h"
#include "trial/trial.h"

namespace cg {

void to_json(nlohmann::json& j, const ErrorBucket& v);
void from_json(const nlohmann::json& j, ErrorBucket& v);
void to_json(nlohmann::json& j, const PhaseStats& v);
void from_json(const nlohmann::json& j, PhaseStats& v);
void to_json(nlohmann::json& j, const ThreadStatus& v);
void from_json(const nlohmann::json& j, ThreadStatus& v);
void to_json(nlohmann::json& j, const Frame& v);
void from_json(const nlohmann::json& j, Frame& v);
void to_json(nlohmann::json& j, const ThreadStack& v);
void from_json(const nlohmann::json& j, ThreadStack& v);
void to_json(nlohmann::json& j, const CrashReport& v);
void from_json(const nlohmann::json& j, CrashReport& v);
void to_json(nlohmann::json& j, const GridAxis& v);
void from_json(const nlohmann::json& j, GridAxis& v);
// The whole trial result (outcome as its name). Missing fields read as their defaults.
void to_json(nlohmann::json& j, const TrialResult& v);
void from_json(const nlohmann::json& j, TrialResult& v);

// What a built-in workload process (`crashgrid run --result-fd N`) writes for its supervisor: the workload
// metrics of TrialResult plus "schema_version", "workload", "detail" and, when Init failed, "could_not_start".
constexpr int kWorkloadResultSchemaVersion = 1;

}  // namespace cg
