// The database read path on mutated files: what `table`, `crashes` and `show` do with a file someone hands
// them (a copy off a crashed disk, a half-written download, a file crafted to break the reader). The input is
// written to a file, opened read-only through Store::Open, and every run is loaded and rendered: its table
// (every format), its crashes summary and each trial's report. Errors are expected and fine; a crash, a hang,
// a leak or undefined behaviour is not. Property: a failed open or load says why.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "report/crashes.h"
#include "report/table.h"
#include "store/store.h"

namespace {

std::string Scratch() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/cg-fuzz-db-XXXXXX";
    const char* d = mkdtemp(tmpl);
    if (d == nullptr) std::abort();
    return std::string(d);
  }();
  return dir;
}

void RemoveFiles(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) unlink((path + suffix).c_str());
}

void ReadEverything(const std::string& path) {
  std::string err;
  int code = 0;
  auto store = cg::Store::Open(path, cg::Store::Mode::kReadOnly, &err, &code);
  if (!store) {
    FUZZ_CHECK(!err.empty() && code != 0, "Open failed without a message or an exit code");
    return;
  }
  std::vector<cg::RunRecord> runs;
  if (!store->LoadRuns(&runs, &err)) {
    FUZZ_CHECK(!err.empty(), "LoadRuns failed without a message");
    return;
  }
  size_t n = 0;
  for (cg::RunRecord& run : runs) {
    if (n++ == 4) break;
    std::vector<cg::TrialGroup> groups;
    if (!store->LoadTrialGroups(run.id, run.duration_s, &groups, &err) ||
        !store->LoadCellVerdicts(run.id, &run.verdicts, &err)) {
      FUZZ_CHECK(!err.empty(), "a load failed without a message");
      continue;
    }
    for (cg::TableFormat format : {cg::TableFormat::kPercent, cg::TableFormat::kSeed, cg::TableFormat::kMarkdown,
                                   cg::TableFormat::kVerdict, cg::TableFormat::kCsv, cg::TableFormat::kJson}) {
      cg::TableOptions options;
      options.format = format;
      std::string out;
      if (!cg::RenderTable(run, groups, options, &out, &err)) FUZZ_CHECK(!err.empty(), "RenderTable: no message");
    }
    cg::CrashesSummary summary = cg::SummarizeCrashes(run, groups);
    cg::RenderCrashes(summary, path);
    size_t shown = 0;
    bool ok = store->ForEachTrial(run.id, /*full=*/true, [&](const cg::StoredTrial& t) {
      cg::RenderTrialReport(t);
      cg::TrialReportJson(t).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return ++shown < 64;
    }, &err);
    if (!ok) FUZZ_CHECK(!err.empty(), "ForEachTrial failed without a message");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1 << 20)) return 0;
  std::string path = Scratch() + "/in.db";
  RemoveFiles(path);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) std::abort();
  for (size_t off = 0; off < size;) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0) std::abort();
    off += static_cast<size_t>(w);
  }
  close(fd);
  ReadEverything(path);
  RemoveFiles(path);
  return 0;
}
