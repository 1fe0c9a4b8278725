// The JSON outputs against their documented schemas (docs/schemas/*.schema.json, docs/db.md), so the docs
// cannot drift: every test runs the real binary on a real database and validates what it printed.
//
// nlohmann has no JSON Schema validator; SchemaErrors implements the subset the schema files use (type,
// const, enum, required, properties, additionalProperties, items, and the annotations $schema, title,
// description) and rejects any other keyword, so a schema cannot promise a check that nothing makes.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using json = nlohmann::json;

bool HasType(const json& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "integer") return v.is_number_integer();
  if (t == "number") return v.is_number();
  return false;
}

void SchemaErrors(const json& schema, const json& v, const std::string& path, std::vector<std::string>* errs) {
  static const std::set<std::string> kKnown = {"$schema", "title", "description", "type", "const", "enum",
                                               "required", "properties", "additionalProperties", "items"};
  for (const auto& [k, unused] : schema.items()) {
    if (!kKnown.count(k)) errs->push_back(path + ": the schema uses '" + k + "', which this validator does not check");
  }
  if (schema.contains("type")) {
    std::vector<std::string> types;
    if (schema["type"].is_array()) {
      for (const auto& t : schema["type"]) types.push_back(t.get<std::string>());
    } else {
      types.push_back(schema["type"].get<std::string>());
    }
    bool ok = false;
    for (const auto& t : types) ok = ok || HasType(v, t);
    if (!ok) {
      errs->push_back(path + ": " + v.type_name() + " where the schema says " + schema["type"].dump());
      return;
    }
  }
  if (schema.contains("const") && v != schema["const"])
    errs->push_back(path + ": " + v.dump() + " where the schema says " + schema["const"].dump());
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& e : schema["enum"]) found = found || e == v;
    if (!found) errs->push_back(path + ": " + v.dump() + " is not one of " + schema["enum"].dump());
  }
  if (v.is_object()) {
    for (const auto& r : schema.value("required", json::array())) {
      if (!v.contains(r.get<std::string>())) errs->push_back(path + ": lacks required key '" + r.get<std::string>() + "'");
    }
    const json props = schema.value("properties", json::object());
    for (const auto& [k, child] : v.items()) {
      if (props.contains(k)) {
        SchemaErrors(props[k], child, path + "." + k, errs);
      } else if (schema.contains("additionalProperties")) {
        const json& extra = schema["additionalProperties"];
        if (extra.is_boolean() && !extra.get<bool>()) errs->push_back(path + ": key '" + k + "' is not in the schema");
        if (extra.is_object()) SchemaErrors(extra, child, path + "." + k, errs);
      }
    }
  }
  if (v.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < v.size(); ++i) SchemaErrors(schema["items"], v[i], path + "[" + std::to_string(i) + "]", errs);
  }
}

std::string Errors(const json& schema, const json& v) {
  std::vector<std::string> errs;
  SchemaErrors(schema, v, "$", &errs);
  std::string out;
  for (const auto& e : errs) out += e + "\n";
  return out;
}

json LoadSchema(const std::string& name) {
  std::ifstream f(std::string(CRASHGRID_SOURCE_DIR) + "/docs/schemas/" + name + ".schema.json");
  EXPECT_TRUE(f.good()) << "no docs/schemas/" << name << ".schema.json";
  return json::parse(f);
}

// Runs crashgrid with `args` (shell words), returns its stdout; fails the test on a non-zero exit.
std::string Crashgrid(const std::string& args) {
  std::string cmd = std::string(CRASHGRID_BINARY_DIR) + "/crashgrid " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  if (!p) return out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cmd << " exited with status " << status;
  return out;
}

// The schema's schema_version must be a const: the documented version is the one the binary prints.
void ExpectValid(const std::string& schema_name, const json& v) {
  json schema = LoadSchema(schema_name);
  EXPECT_EQ(Errors(schema, v), "") << schema_name << " output:\n" << v.dump(2).substr(0, 4000);
}

// Two sweeps of the reference target, made once: a crashing one with a serialize axis (mitigations, compare
// --by) and a one-cell clean one.
class Schemas : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::string(::testing::TempDir()) + "cg_schema_" + std::to_string(getpid());
    std::system(("rm -rf '" + dir_ + "' && mkdir -p '" + dir_ + "'").c_str());
    Crashgrid("sweep reference-race --grid serialize=none,all --grid threads=4 --grid sessions=8 --runs 3 "
              "--duration 500ms -q --format none --db '" + dir_ + "/mit.db'");
    Crashgrid("sweep reference-race --grid threads=1 --runs 2 --duration 200ms -q --format none --db '" + dir_ +
              "/clean.db'");
  }
  static void TearDownTestSuite() { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  static std::string Db(const char* name) { return "'" + dir_ + "/" + name + "'"; }
  static std::string dir_;
};
std::string Schemas::dir_;

TEST(SchemaValidator, RejectsWrongTypeMissingKeyWrongConstAndUnknownKeyword) {
  json schema = {{"type", "object"},
                 {"required", {"a"}},
                 {"properties", {{"a", {{"type", "integer"}}}, {"v", {{"const", 2}}}, {"k", {{"enum", {"x", "y"}}}}}},
                 {"additionalProperties", false}};
  EXPECT_EQ(Errors(schema, {{"a", 1}, {"v", 2}, {"k", "x"}}), "");
  EXPECT_NE(Errors(schema, {{"a", "1"}}), "");        // wrong type
  EXPECT_NE(Errors(schema, {{"a", 1.5}}), "");        // a number is not an integer
  EXPECT_NE(Errors(schema, json::object()), "");      // missing required
  EXPECT_NE(Errors(schema, {{"a", 1}, {"v", 3}}), "");  // wrong const
  EXPECT_NE(Errors(schema, {{"a", 1}, {"k", "z"}}), "");  // not in enum
  EXPECT_NE(Errors(schema, {{"a", 1}, {"extra", 0}}), "");  // additionalProperties false
  EXPECT_NE(Errors({{"type", "array"}, {"items", {{"type", "string"}}}}, {"a", 1}), "");  // an item
  EXPECT_NE(Errors({{"pattern", "x"}}, "x"), "");  // a keyword it does not implement
}

TEST(SchemaValidator, EverySchemaFileUsesOnlyTheCheckedKeywordsAndPinsItsVersion) {
  for (const char* name : {"run", "table", "compare", "mitigations", "crashes", "show", "doctor", "environment",
                           "workloads", "export-trial"}) {
    json schema = LoadSchema(name);
    std::vector<std::string> errs;
    SchemaErrors(schema, json::object(), "$", &errs);  // keyword errors show for any value
    for (const auto& e : errs) EXPECT_EQ(e.find("does not check"), std::string::npos) << name << ": " << e;
    if (std::string(name) != "export-trial") {
      EXPECT_TRUE(schema["properties"]["schema_version"].contains("const")) << name;
      EXPECT_TRUE(schema["required"].get<std::vector<std::string>>().size() > 1) << name;
    }
  }
}

// One thread: `run` executes the workload in this process, and the reference race at two threads can crash it.
TEST_F(Schemas, RunJson) {
  ExpectValid("run", json::parse(Crashgrid("run reference-race --threads 1 --duration 200ms --json")));
}

TEST_F(Schemas, TableJson) {
  ExpectValid("table", json::parse(Crashgrid("table " + Db("mit.db") + " --format json")));
  ExpectValid("table", json::parse(Crashgrid("table " + Db("clean.db") + " --format json")));
  // One whole signature: a prefix such as "SIGSEGV" is refused as ambiguous when the race crashed two ways.
  json crashes = json::parse(Crashgrid("crashes " + Db("mit.db") + " --json"));
  ASSERT_FALSE(crashes["signatures"].empty()) << "the reference race did not crash in the set-up sweep";
  std::string sig = crashes["signatures"][0]["signature"].get<std::string>();
  ASSERT_EQ(sig.find('\''), std::string::npos) << sig;
  ExpectValid("table", json::parse(Crashgrid("table " + Db("mit.db") + " --format json --signature '" + sig + "'")));
}

TEST_F(Schemas, CompareJson) {
  ExpectValid("compare", json::parse(Crashgrid("compare " + Db("mit.db") + " --by serialize --json")));
  ExpectValid("compare", json::parse(Crashgrid("compare " + Db("mit.db") + " " + Db("clean.db") + " --json")));
}

TEST_F(Schemas, MitigationsJson) {
  ExpectValid("mitigations", json::parse(Crashgrid("mitigations " + Db("mit.db") + " --json")));
}

TEST_F(Schemas, CrashesJson) {
  ExpectValid("crashes", json::parse(Crashgrid("crashes " + Db("mit.db") + " --json")));
  ExpectValid("crashes", json::parse(Crashgrid("crashes " + Db("clean.db") + " --json")));
}

TEST_F(Schemas, ShowAndExportJson) {
  std::istringstream lines(Crashgrid("export " + Db("mit.db")));
  json schema = LoadSchema("export-trial");
  std::string line;
  int n = 0;
  bool crashed = false;
  while (std::getline(lines, line)) {
    json t = json::parse(line);
    EXPECT_EQ(Errors(schema, t), "") << line.substr(0, 2000);
    // show: every trial, crashed ones (with a report) and clean ones (report null).
    ExpectValid("show", json::parse(Crashgrid("show " + Db("mit.db") + " " + std::to_string(t["trial_id"].get<int64_t>()) +
                                              " --json")));
    crashed = crashed || t["outcome"] == "crashed";
    ++n;
  }
  EXPECT_EQ(n, 6);
  EXPECT_TRUE(crashed) << "the reference target never crashed with serialize=none in 3 trials of 4x8";
}

TEST_F(Schemas, DoctorWorkloadsAndEnvironmentJson) {
  ExpectValid("doctor", json::parse(Crashgrid("doctor --json --timeout 30")));
  ExpectValid("environment", json::parse(Crashgrid("doctor --fingerprint --json")));
  ExpectValid("workloads", json::parse(Crashgrid("workloads --json")));
}

}  // namespace
