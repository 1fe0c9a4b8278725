// The run identity (RunIdentity): every part that must match for a sweep command to continue a run changes
// it, each with its own assertion; what must not split a run (kernel, CPU, GStreamer, commit, --runs, capture,
// the command line) has one too. Then the --exec program's build identity, against readelf as the oracle.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "sweep/fingerprint.h"

namespace cg {
namespace {

RunRecord BaseRun() {
  RunRecord r;
  r.id = 2;
  r.workload = "exec";
  r.exec_argv = {"./prog", "{N}"};
  r.crashgrid_version = "0.1.0";
  r.crashgrid_commit = "abc";
  r.environment = {{"host", "box"},
                   {"kernel", {{"release", "6.1.0"}}},
                   {"cpu", {{"model", "Xeon"}, {"count", 16}}},
                   {"gstreamer", {{"version", "GStreamer 1.22.0"}}},
                   {"nvidia",
                    {{"driver_version", "550.54"},
                     {"cuda_driver_version", "12.4"},
                     {"gpus", {{{"name", "NVIDIA H100"}, {"uuid", "GPU-1111"}, {"memory_bytes", 80}}}}}},
                   {"program", {{"path", "/w/prog"}, {"build_id", "aa11"}}}};
  r.cwd = "/w";
  r.labels = {{"rack", "b7"}};
  r.env = {{"GST_DEBUG", "3"}};
  r.identity = RunIdentity(r);
  return r;
}

TEST(RunIdentity, TheDriverVersionIsPartOfIt) {
  RunRecord b = BaseRun();
  b.environment["nvidia"]["driver_version"] = "570.86";
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(b));
}

TEST(RunIdentity, EachGpuNameAndUuidArePartOfIt) {
  RunRecord name = BaseRun(), uuid = BaseRun(), more = BaseRun();
  name.environment["nvidia"]["gpus"][0]["name"] = "NVIDIA H200";
  uuid.environment["nvidia"]["gpus"][0]["uuid"] = "GPU-2222";
  more.environment["nvidia"]["gpus"].push_back({{"name", "NVIDIA H100"}, {"uuid", "GPU-3333"}});
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(name));
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(uuid));
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(more));
}

TEST(RunIdentity, TheHostIsPartOfIt) {
  RunRecord b = BaseRun();
  b.environment["host"] = "other";
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(b));
}

TEST(RunIdentity, TheCrashgridVersionIsPartOfIt) {
  RunRecord b = BaseRun();
  b.crashgrid_version = "0.2.0";
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(b));
}

TEST(RunIdentity, TheExecProgramsBuildIsPartOfIt) {
  RunRecord build = BaseRun(), hashed = BaseRun(), rehashed = BaseRun();
  build.environment["program"]["build_id"] = "bb22";
  hashed.environment["program"] = {{"path", "/w/prog"}, {"content_hash", "0123"}};
  rehashed.environment["program"] = {{"path", "/w/prog"}, {"content_hash", "4567"}};
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(build));
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(hashed));
  EXPECT_NE(RunIdentity(hashed), RunIdentity(rehashed));
}

TEST(RunIdentity, TheWorkingDirectoryOfAnExecSweepIsPartOfItNotOfABuiltIn) {
  RunRecord b = BaseRun();
  b.cwd = "/elsewhere";
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(b));
  RunRecord builtin = BaseRun(), moved = BaseRun();
  builtin.workload = moved.workload = "reference-race";
  builtin.exec_argv.clear();
  moved.exec_argv.clear();
  moved.cwd = "/elsewhere";
  EXPECT_EQ(RunIdentity(builtin), RunIdentity(moved));
}

TEST(RunIdentity, LabelsArePartOfIt) {
  RunRecord value = BaseRun(), extra = BaseRun(), none = BaseRun();
  value.labels["rack"] = "c1";
  extra.labels["driver"] = "570";
  none.labels.clear();
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(value));
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(extra));
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(none));
}

TEST(RunIdentity, EnvVariablesArePartOfIt) {
  RunRecord value = BaseRun(), extra = BaseRun();
  value.env["GST_DEBUG"] = "5";
  extra.env["CUDA_LAUNCH_BLOCKING"] = "1";
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(value));
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(extra));
}

TEST(RunIdentity, WhatDoesNotMatterLeavesItAlone) {
  RunRecord b = BaseRun();
  b.id = 9;
  b.created_at = 12345;
  b.argv = {"crashgrid", "sweep", "--runs", "100"};
  b.command_line = "crashgrid sweep --runs 100";
  b.runs = 100;
  b.capture = "none";
  b.settings = {{"until", "decided"}};
  b.finished = true;
  b.crashgrid_commit = "def";
  b.workload_detail = "branch B";
  b.environment["kernel"]["release"] = "6.9.0";
  b.environment["cpu"]["count"] = 2;
  b.environment["gstreamer"]["version"] = "GStreamer 1.24.0";
  b.environment["nvidia"]["cuda_driver_version"] = "12.8";
  b.environment["nvidia"]["gpus"][0]["memory_bytes"] = 81;
  b.environment["program"]["path"] = "/moved/prog";
  EXPECT_EQ(RunIdentity(BaseRun()), RunIdentity(b));
  EXPECT_TRUE(SameIdentity(BaseRun(), b));
  EXPECT_EQ(IdentityDifference(BaseRun(), b), "");
}

TEST(IdentityDifference, SaysWhatDiffersAndFromWhichRun) {
  RunRecord b = BaseRun();
  b.id = 3;
  b.environment["nvidia"]["driver_version"] = "570.86";
  EXPECT_FALSE(SameIdentity(BaseRun(), b));
  EXPECT_EQ(IdentityDifference(BaseRun(), b), "driver 570.86 differs from run 2's 550.54");
  b.labels = {{"rack", "b7"}, {"driver", "570"}};
  EXPECT_EQ(IdentityDifference(BaseRun(), b),
            "driver 570.86 differs from run 2's 550.54; label driver=570 differs from run 2's (none)");
}

TEST(SameIdentity, ARunStoredBeforeV4IsComparedOnWhatItRecorded) {
  RunRecord old = BaseRun();
  old.identity = "";
  old.labels.clear();
  old.env.clear();
  old.cwd = "";
  old.environment.erase("program");
  RunRecord now = BaseRun();
  now.labels.clear();
  now.env.clear();
  // The program's build and the cwd were never recorded: they cannot tell the runs apart.
  EXPECT_TRUE(SameIdentity(old, now)) << IdentityDifference(old, now);
  now.environment["nvidia"]["driver_version"] = "570.86";
  EXPECT_FALSE(SameIdentity(old, now));
  RunRecord labelled = BaseRun();
  labelled.env.clear();
  EXPECT_FALSE(SameIdentity(old, labelled)) << "a label it cannot have had tells them apart";
}

std::string ReadelfBuildId(const std::string& path) {
  std::string cmd = "readelf -n '" + path + "' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "";
  char line[512];
  std::string id;
  while (fgets(line, sizeof line, p)) {
    std::string s = line;
    size_t at = s.find("Build ID: ");
    if (at != std::string::npos) id = s.substr(at + 10, s.find_first_of("\r\n", at) - at - 10);
  }
  pclose(p);
  return id;
}

TEST(ProgramFingerprint, AnElfProgramIsItsBuildIdAsReadelfReadsIt) {
  std::string path = std::string(CRASHGRID_BINARY_DIR) + "/crashgrid";
  std::string expected = ReadelfBuildId(path);
  ASSERT_FALSE(expected.empty()) << "readelf found no build-id in " << path;
  nlohmann::json j = ProgramFingerprint(path, {});
  EXPECT_EQ(j.value("build_id", ""), expected) << j.dump();
  EXPECT_EQ(j.value("path", ""), path);
}

TEST(ProgramFingerprint, AProgramNameIsResolvedThroughPath) {
  nlohmann::json j = ProgramFingerprint("sh", {});
  std::string path = j.value("path", "");
  ASSERT_FALSE(path.empty()) << j.dump();
  EXPECT_EQ(path.front(), '/') << j.dump();
  EXPECT_TRUE(j.contains("build_id") || j.contains("content_hash")) << j.dump();
}

TEST(ProgramFingerprint, AScriptIsItsContentHash) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("cg_fingerprint_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string script = (dir / "run.sh").string();
  auto write = [&](const char* text) {
    std::ofstream(script) << text;
    fs::permissions(script, fs::perms::owner_all);
  };
  write("#!/bin/sh\nexec ./prog 1\n");
  nlohmann::json a = ProgramFingerprint(script, {});
  write("#!/bin/sh\nexec ./prog 2\n");
  nlohmann::json b = ProgramFingerprint(script, {});
  write("#!/bin/sh\nexec ./prog 1\n");
  nlohmann::json c = ProgramFingerprint(script, {});
  fs::remove_all(dir);
  ASSERT_TRUE(a.contains("content_hash")) << a.dump();
  EXPECT_FALSE(a.contains("build_id"));
  EXPECT_NE(a["content_hash"], b["content_hash"]);
  EXPECT_EQ(a["content_hash"], c["content_hash"]);
}

TEST(ProgramFingerprint, AMissingProgramSaysSo) {
  nlohmann::json j = ProgramFingerprint("/nonexistent/prog", {});
  EXPECT_TRUE(j.contains("error")) << j.dump();
  RunRecord r = BaseRun();
  r.environment["program"] = j;
  EXPECT_NE(RunIdentity(BaseRun()), RunIdentity(r));
}

}  // namespace
}  // namespace cg
