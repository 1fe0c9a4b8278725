#include "trial/trial.h"

#include <cctype>

#include "util/strings.h"

namespace cg {

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kClean: return "clean";
    case Outcome::kCrashed: return "crashed";
    case Outcome::kHung: return "hung";
    case Outcome::kFailed: return "failed";
    case Outcome::kCouldNotStart: return "could-not-start";
    case Outcome::kOverran: return "overran";
  }
  return "?";
}

Evidence OutcomeEvidence(Outcome o) {
  switch (o) {
    case Outcome::kClean: return Evidence::kSafe;
    case Outcome::kCrashed:
    case Outcome::kHung: return Evidence::kCrash;
    case Outcome::kFailed:
    case Outcome::kCouldNotStart:
    case Outcome::kOverran: return Evidence::kNeither;
  }
  return Evidence::kNeither;
}

bool ParseOutcome(const std::string& s, Outcome* out) {
  for (Outcome o : {Outcome::kClean, Outcome::kCrashed, Outcome::kHung, Outcome::kFailed, Outcome::kCouldNotStart,
                    Outcome::kOverran}) {
    if (s == OutcomeName(o)) {
      *out = o;
      return true;
    }
  }
  return false;
}

std::string CellKey(const Cell& cell) {
  std::string out;
  for (size_t i = 0; i < cell.size(); ++i) {
    if (i) out += ',';
    out += cell[i].first;
    out += '=';
    out += cell[i].second;
  }
  return out;
}

bool ParseCellKey(const std::string& key, Cell* cell) {
  cell->clear();
  if (key.empty()) return true;
  for (const auto& part : Split(key, ',')) {
    size_t eq = part.find('=');
    if (eq == std::string::npos || eq == 0) return false;
    cell->emplace_back(part.substr(0, eq), part.substr(eq + 1));
  }
  return true;
}

int SeedExitCode(const TrialResult& r) {
  switch (r.outcome) {
    case Outcome::kClean: return 0;
    case Outcome::kCrashed: return 128 + r.signal;
    case Outcome::kHung:
    case Outcome::kOverran: return 124;
    case Outcome::kFailed: return r.exit_code;
    case Outcome::kCouldNotStart: return 127;
  }
  return -1;
}

std::string NormalizeErrorMessage(std::string_view msg) {
  msg = Trim(msg);
  std::string out;
  out.reserve(msg.size());
  for (size_t i = 0; i < msg.size();) {
    if (msg[i] == '0' && i + 1 < msg.size() && (msg[i + 1] == 'x' || msg[i + 1] == 'X')) {
      size_t j = i + 2;
      while (j < msg.size() && std::isxdigit(static_cast<unsigned char>(msg[j]))) ++j;
      if (j > i + 2) {
        out += "0x#";
        i = j;
        continue;
      }
    }
    if (std::isdigit(static_cast<unsigned char>(msg[i]))) {
      while (i < msg.size() && std::isdigit(static_cast<unsigned char>(msg[i]))) ++i;
      out += '#';
      continue;
    }
    out += msg[i++];
  }
  if (out.size() > 200) out.resize(200);
  return out;
}

}  // namespace cg
