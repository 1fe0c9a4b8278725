// Every subcommand is `int CmdNAME(const std::vector<std::string>& args)`: args are the words after the
// subcommand's name; the return value is the process exit code (util/error.h).
#pragma once

#include <string>
#include <vector>

namespace cg {

using Args = std::vector<std::string>;

int CmdRun(const Args& args);
int CmdSweep(const Args& args);
int CmdTable(const Args& args);
int CmdCompare(const Args& args);
int CmdMitigations(const Args& args);
int CmdWorkloads(const Args& args);
int CmdReport(const Args& args);
int CmdHeatmap(const Args& args);
int CmdBugreport(const Args& args);
int CmdExport(const Args& args);
int CmdDoctor(const Args& args);
int CmdCrashes(const Args& args);
int CmdShow(const Args& args);
int CmdRepro(const Args& args);
int CmdMerge(const Args& args);

}  // namespace cg
