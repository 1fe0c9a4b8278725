// `crashgrid workloads`: what can be run, with phases (for --serialize) and parameters (for --param/--grid).
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "util/error.h"
#include "util/strings.h"
#include "runtime/workload.h"

namespace cg {
namespace {

std::string RenderWorkloads() {
  std::string out;
  for (const auto& name : WorkloadNames()) {
    auto w = CreateWorkload(name);
    if (!w) continue;
    const WorkloadInfo& info = w->info();
    std::vector<std::string> tags;
    if (info.reference_target) tags.push_back("reference target");
    if (info.needs_gpu) tags.push_back("needs an NVIDIA GPU");
    out += fmt::format("{}{}\n", info.name, tags.empty() ? "" : "  [" + Join(tags, ", ") + "]");
    out += fmt::format("  {}\n", info.summary);
    out += fmt::format("  phases: {}\n", Join(info.phases, ", "));
    if (!info.units_name.empty()) out += fmt::format("  units: {}\n", info.units_name);
    if (info.params.empty()) out += "  parameters: none\n";
    for (const auto& p : info.params)
      out += fmt::format("  --param {}={}  {}\n", p.name, p.default_value.empty() ? "..." : p.default_value, p.help);
    out += "\n";
  }
  out += "Run one with `crashgrid run NAME --threads N --param key=value`; serialize phases with --serialize.\n";
  return out;
}

nlohmann::json WorkloadsJson() {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& name : WorkloadNames()) {
    auto w = CreateWorkload(name);
    if (!w) continue;
    const WorkloadInfo& info = w->info();
    nlohmann::json params = nlohmann::json::array();
    for (const auto& p : info.params)
      params.push_back({{"name", p.name}, {"default", p.default_value}, {"help", p.help}});
    list.push_back({{"name", info.name},
                    {"summary", info.summary},
                    {"phases", info.phases},
                    {"params", params},
                    {"units_name", info.units_name},
                    {"reference_target", info.reference_target},
                    {"needs_gpu", info.needs_gpu}});
  }
  return nlohmann::json{{"schema_version", 1}, {"workloads", list}};
}

}  // namespace

int CmdWorkloads(const Args& args) {
  CLI::App app{"Lists the built-in workloads: phases, parameters with defaults, reference targets.",
               "crashgrid workloads"};
  bool json = false;
  app.add_flag("--json", json, "print the list as JSON");
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    PrintError(fmt::format("{} (see crashgrid workloads --help)", e.what()));
    return kExitUsage;
  }
  std::string text = json ? WorkloadsJson().dump(2) + "\n" : RenderWorkloads();
  std::fputs(text.c_str(), stdout);
  return kExitOk;
}

}  // namespace cg
