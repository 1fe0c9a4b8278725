// --amplify from the command line to the trial's environment: the values accepted, the seed's rule, the sweep
// key (an amplified sweep is never the plain one), and what a trial of each cell gets.
#include "sweep/amplify.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "agent/amplify.h"
#include "sweep/fingerprint.h"
#include "sweep/options.h"

namespace cg {
namespace {

std::string EnvOf(const TrialSpec& spec, const std::string& name) {
  for (const auto& [k, v] : spec.env)
    if (k == name) return v;
  return "";
}

TEST(Amplify, AcceptsOffOnAndAProbability) {
  double p = -1;
  std::string err;
  ASSERT_TRUE(ParseAmplify("off", "--amplify", &p, &err));
  EXPECT_EQ(p, 0);
  ASSERT_TRUE(ParseAmplify("on", "--amplify", &p, &err));
  EXPECT_EQ(p, kAmplifyDefaultP);
  ASSERT_TRUE(ParseAmplify("0.25", "--amplify", &p, &err));
  EXPECT_EQ(p, 0.25);
  ASSERT_TRUE(ParseAmplify("1", "--amplify", &p, &err));
  EXPECT_EQ(p, 1);
  for (const char* bad : {"", "0", "1.5", "2", "yes", "1e-2", "-0.1"}) {
    EXPECT_FALSE(ParseAmplify(bad, "--grid amplify", &p, &err)) << bad;
    EXPECT_NE(err.find("--grid amplify '" + std::string(bad) + "'"), std::string::npos) << err;
    EXPECT_NE(err.find("off, on or a probability"), std::string::npos) << err;
  }
}

TEST(Amplify, TheEnvironmentIsWhatTheAgentParses) {
  auto env = AmplifyEnvironment(0.1, 0xabcdef);
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[0].first, AGENT_ENV_AMPLIFY);
  EXPECT_EQ(env[0].second, "0.1");
  EXPECT_DOUBLE_EQ(cg_amp_parse_p(env[0].second.c_str()), 0.1);
  EXPECT_EQ(env[1].first, AGENT_ENV_AMPLIFY_SEED);
  EXPECT_EQ(env[1].second, "0000000000abcdef");
  int ok = 0;
  EXPECT_EQ(cg_amp_parse_seed(env[1].second.c_str(), &ok), 0xabcdefu);
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(AmplifyEnvironment(1, 0)[0].second, "1");
  EXPECT_EQ(AmplifyEnvironment(0.000001, 0)[0].second, "0.000001");
}

TEST(Amplify, TheSeedIsAFunctionOfTheTrialUid) {
  EXPECT_EQ(AmplifySeed("0123456789abcdef0123456789abcdef"), AmplifySeed("0123456789abcdef0123456789abcdef"));
  EXPECT_NE(AmplifySeed("0123456789abcdef0123456789abcdef"), AmplifySeed("0123456789abcdef0123456789abcdee"));
  // The rule docs/db.md states: FNV-1a 64 of "amplify/" + uid.
  EXPECT_EQ(AmplifySeed("x"), Fnv1a64("amplify/x"));
}

SweepOptions Exec() {
  SweepOptions o;
  o.exec_argv = {"/bin/prog"};
  o.grid = {{"N", {"1", "2"}}};
  o.duration_s = 2;
  o.grace_s = 3;
  return o;
}

TEST(Amplify, AnAmplifiedSweepIsAnotherSweep) {
  SweepOptions plain = Exec(), on = Exec(), p2 = Exec();
  on.params["amplify"] = "on";
  p2.params["amplify"] = "0.2";
  EXPECT_NE(SweepKey(plain), SweepKey(on));
  EXPECT_NE(SweepKey(on), SweepKey(p2));
  SweepOptions axis = Exec();
  axis.grid.push_back({"amplify", {"off", "on"}});
  EXPECT_NE(SweepKey(axis), SweepKey(plain));
  EXPECT_NE(SweepKey(axis), SweepKey(on));
}

TEST(Amplify, AnAmplifiedCellsTrialGetsItsSeedFromItsUid) {
  SweepOptions o = Exec();
  o.grid.push_back({"amplify", {"off", "on", "0.3"}});
  std::vector<Cell> cells = ExpandGrid(o.grid);
  ASSERT_EQ(cells.size(), 6u);
  for (const Cell& cell : cells) {
    std::string value = cell.back().second;
    TrialSpec spec = MakeTrialSpec(o, cell, "/self", "uid-1");
    if (value == "off") {
      EXPECT_EQ(EnvOf(spec, AGENT_ENV_AMPLIFY), "") << CellKey(cell);
      EXPECT_EQ(EnvOf(spec, AGENT_ENV_AMPLIFY_SEED), "");
    } else {
      EXPECT_EQ(EnvOf(spec, AGENT_ENV_AMPLIFY), value == "on" ? "0.1" : "0.3") << CellKey(cell);
      EXPECT_EQ(EnvOf(spec, AGENT_ENV_AMPLIFY_SEED), fmt::format("{:016x}", AmplifySeed("uid-1")));
      EXPECT_NE(EnvOf(MakeTrialSpec(o, cell, "/self", "uid-2"), AGENT_ENV_AMPLIFY_SEED),
                EnvOf(spec, AGENT_ENV_AMPLIFY_SEED));
    }
  }
}

TEST(Amplify, ABuiltInWorkloadGetsItThroughTheAgentNotAsAParameter) {
  SweepOptions o;
  o.workload = "reference-race";
  o.params = {{"threads", "2"}, {"amplify", "on"}};
  o.duration_s = 1;
  TrialSpec spec = MakeTrialSpec(o, Cell{{"sessions", "4"}}, "/self", "u");
  EXPECT_EQ(EnvOf(spec, AGENT_ENV_AMPLIFY), "0.1");
  for (const std::string& a : spec.argv) EXPECT_EQ(a.find("amplify"), std::string::npos) << a;
  SweepOptions plain = o;
  plain.params.erase("amplify");
  EXPECT_EQ(EnvOf(MakeTrialSpec(plain, Cell{{"sessions", "4"}}, "/self", "u"), AGENT_ENV_AMPLIFY), "");
}

}  // namespace
}  // namespace cg
