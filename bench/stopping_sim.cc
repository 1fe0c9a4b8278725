// Simulates stopping rules on grids of known crash probabilities (no processes): how many trials each rule
// spends and how many cells end with a verdict that contradicts the truth. Truth: p <= p0 must be SAFE,
// p >= p1 must be CRASHES, anything between may be either. Fixed seed; prints a markdown report.
//
//   build-e/bench/stopping_sim [--reps N] [--seed S]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "stats/stats.h"
#include "sweep/stopping.h"

namespace {

using cg::CellProgress;
using cg::SprtParams;
using cg::Verdict;

// The seed report's 12 x 12 table (threads x encoders): crashes / runs per cell, driver 550.
const int kSeed[12][12][2] = {
    {{0, 69}, {0, 69}, {0, 69}, {0, 69}, {0, 69}, {0, 69}, {0, 69}, {0, 69}, {0, 69}, {0, 9}, {0, 69}, {0, 69}},
    {{0, 69}, {0, 69}, {3, 69}, {2, 69}, {0, 69}, {19, 69}, {8, 69}, {10, 69}, {13, 69}, {9, 9}, {17, 69}, {24, 69}},
    {{14, 69}, {2, 69}, {18, 69}, {32, 69}, {43, 69}, {32, 69}, {38, 69}, {36, 69}, {36, 69}, {38, 39}, {39, 69}, {42, 69}},
    {{10, 69}, {6, 69}, {41, 69}, {51, 69}, {48, 69}, {51, 69}, {56, 69}, {43, 69}, {46, 69}, {37, 39}, {43, 69}, {38, 69}},
    {{4, 69}, {48, 69}, {57, 69}, {45, 69}, {53, 69}, {47, 69}, {48, 69}, {22, 69}, {28, 69}, {42, 49}, {13, 69}, {1, 69}},
    {{3, 69}, {53, 69}, {50, 69}, {51, 69}, {40, 69}, {37, 69}, {25, 69}, {27, 69}, {13, 69}, {1, 9}, {3, 68}, {0, 68}},
    {{6, 68}, {57, 68}, {43, 68}, {44, 68}, {35, 68}, {30, 68}, {22, 68}, {3, 68}, {2, 68}, {0, 8}, {0, 68}, {0, 68}},
    {{0, 68}, {61, 68}, {46, 68}, {37, 68}, {28, 68}, {22, 68}, {0, 68}, {2, 68}, {0, 68}, {0, 8}, {0, 68}, {0, 68}},
    {{22, 68}, {50, 68}, {34, 68}, {35, 68}, {27, 68}, {27, 68}, {1, 68}, {0, 68}, {0, 68}, {0, 8}, {0, 68}, {0, 68}},
    {{15, 68}, {48, 68}, {39, 68}, {20, 68}, {22, 68}, {1, 68}, {0, 68}, {1, 68}, {0, 68}, {0, 8}, {0, 68}, {0, 68}},
    {{25, 68}, {47, 68}, {29, 68}, {25, 68}, {8, 68}, {0, 68}, {0, 68}, {0, 68}, {0, 68}, {0, 8}, {0, 68}, {1, 68}},
    {{24, 68}, {27, 68}, {26, 68}, {20, 68}, {3, 68}, {0, 68}, {0, 68}, {0, 68}, {0, 68}, {0, 8}, {1, 68}, {2, 68}},
};

struct Grid {
  std::string name;
  std::vector<double> p;
};

Grid SeedGrid() {
  Grid g{"seed table (12x12, p = k/n of the report)", {}};
  for (auto& row : kSeed)
    for (auto& c : row) g.p.push_back(static_cast<double>(c[0]) / c[1]);
  return g;
}

// A random 12x12 grid: 40% never crash, 15% rarely (p <= p0), 10% in the indifference zone, 35% crash often.
Grid RandomGrid(std::mt19937_64& rng, int index) {
  std::uniform_real_distribution<double> u(0, 1);
  Grid g{"random grid " + std::to_string(index) + " (12x12)", {}};
  for (int i = 0; i < 144; ++i) {
    double r = u(rng);
    if (r < 0.40)
      g.p.push_back(0);
    else if (r < 0.55)
      g.p.push_back(0.01 * u(rng));
    else if (r < 0.65)
      g.p.push_back(0.01 + 0.09 * u(rng));
    else
      g.p.push_back(0.10 + 0.90 * u(rng));
  }
  return g;
}

struct Outcome {
  int64_t trials = 0;
  int64_t by_class[3] = {0, 0, 0};  // trials on cells with p <= p0, between, p >= p1
  int wrong = 0;      // verdict contradicts the truth
  int undecided = 0;  // UNDECIDED where the truth is clear-cut
};

bool Wrong(Verdict v, double p, const SprtParams& s) {
  if (p <= s.p0) return v == Verdict::kCrashes;
  if (p >= s.p1) return v == Verdict::kSafe;
  return false;
}

// Runs `rule` to completion on grid `g`, drawing each trial from Bernoulli(p).
std::vector<CellProgress> Simulate(cg::StoppingRule* rule, const Grid& g, std::mt19937_64& rng) {
  std::bernoulli_distribution dummy;
  std::vector<CellProgress> cells(g.p.size());
  for (;;) {
    std::vector<size_t> round = rule->NextRound(cells);
    if (round.empty()) break;
    for (size_t i : round) {
      std::bernoulli_distribution crash(g.p[i]);
      cells[i].n++;
      cells[i].crashes += crash(rng) ? 1 : 0;
    }
  }
  return cells;
}

// Flat: the verdict a reader of a flat table draws, "any crash means it crashes" (what people do with the
// seed table), and for reference the SPRT verdict on the final counts.
Outcome Judge(const std::vector<CellProgress>& cells, const Grid& g, const SprtParams& s, bool any_crash) {
  Outcome o;
  for (size_t i = 0; i < cells.size(); ++i) {
    o.trials += cells[i].n;
    o.by_class[g.p[i] <= s.p0 ? 0 : g.p[i] >= s.p1 ? 2 : 1] += cells[i].n;
    Verdict v = any_crash ? (cells[i].crashes > 0 ? Verdict::kCrashes : Verdict::kSafe)
                          : cg::SprtDecide(cells[i].crashes, cells[i].n, s);
    if (Wrong(v, g.p[i], s)) o.wrong++;
    if (v == Verdict::kUndecided && (g.p[i] <= s.p0 || g.p[i] >= s.p1)) o.undecided++;
  }
  return o;
}

struct Tally {
  double trials = 0, wrong = 0, undecided = 0;
  double by_class[3] = {0, 0, 0};
  int max_wrong = 0;
  int at_most_one = 0;
  int reps = 0;
  void Add(const Outcome& o) {
    trials += static_cast<double>(o.trials);
    for (int c = 0; c < 3; ++c) by_class[c] += static_cast<double>(o.by_class[c]);
    at_most_one += o.wrong <= 1 ? 1 : 0;
    wrong += o.wrong;
    undecided += o.undecided;
    max_wrong = std::max(max_wrong, o.wrong);
    reps++;
  }
};

}  // namespace

int main(int argc, char** argv) {
  int reps = 50;
  uint64_t seed = 20261122;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  const int64_t kFlatRuns = 69;
  SprtParams sprt;
  std::mt19937_64 rng(seed);
  std::vector<Grid> grids = {SeedGrid()};
  for (int i = 1; i <= 4; ++i) grids.push_back(RandomGrid(rng, i));

  std::printf("SPRT p0 = %g, p1 = %g, alpha = %g, beta = %g; cap %lld runs per cell; %d replications per grid, "
              "seed %llu.\n\n",
              sprt.p0, sprt.p1, sprt.alpha, sprt.beta, static_cast<long long>(kFlatRuns), reps,
              static_cast<unsigned long long>(seed));
  std::printf("| grid | cells p<=p0 / between / p>=p1 | flat 69: trials | flat: wrong (any crash = CRASHES) | "
              "decided: trials (mean) | of which on p<=p0 / between / p>=p1 | saving | decided: wrong mean / max | "
              "reps with <= 1 wrong | decided: UNDECIDED mean | +refine: extra trials (mean) |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  double all_flat = 0, all_decided = 0;
  int worst = 0;
  for (const Grid& g : grids) {
    int low = 0, mid = 0, high = 0;
    for (double p : g.p) (p <= sprt.p0 ? low : p >= sprt.p1 ? high : mid)++;
    Tally flat, decided, refined;
    for (int r = 0; r < reps; ++r) {
      auto flat_rule = cg::NewFlatRule(kFlatRuns);
      flat.Add(Judge(Simulate(flat_rule.get(), g, rng), g, sprt, /*any_crash=*/true));
      auto decided_rule = cg::NewDecidedRule(kFlatRuns, sprt);
      decided.Add(Judge(Simulate(decided_rule.get(), g, rng), g, sprt, false));
      auto refine_rule = cg::NewRefineRule(kFlatRuns, sprt, cg::RefineParams{});
      refined.Add(Judge(Simulate(refine_rule.get(), g, rng), g, sprt, false));
    }
    double ft = flat.trials / reps, dt = decided.trials / reps;
    all_flat += ft;
    all_decided += dt;
    worst = std::max(worst, decided.max_wrong);
    std::printf("| %s | %d / %d / %d | %.0f | %.2f | %.0f | %.0f / %.0f / %.0f | %.1fx | %.2f / %d | %d/%d | %.2f | %.0f |\n",
                g.name.c_str(), low, mid, high, ft, flat.wrong / reps, dt, decided.by_class[0] / reps,
                decided.by_class[1] / reps, decided.by_class[2] / reps, ft / dt, decided.wrong / reps,
                decided.max_wrong, decided.at_most_one, reps, decided.undecided / reps, refined.trials / reps - dt);
  }
  std::printf("\nAll grids: flat %.0f trials, decided %.0f (%.1fx fewer); worst replication: %d cell(s) with a "
              "wrong verdict.\n",
              all_flat, all_decided, all_flat / all_decided, worst);
  return 0;
}
