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
int CmdWorkloads(const Args& args);

}  // namespace cg
