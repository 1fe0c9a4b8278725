// Exact tests for comparing two crash probabilities (k1 of n1 against k2 of n2) and corrections for testing
// many cells at once. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <vector>

namespace cg {

// Fisher's exact test on the 2x2 table [[k1, n1-k1], [k2, n2-k2]], two-sided the way R's fisher.test does it:
// the probability of every table with the same margins that is no more likely than the observed one.
double FisherExactTwoSided(int64_t k1, int64_t n1, int64_t k2, int64_t n2);
// One-sided Fisher p-value for the alternative p1 > p2 (greater) or p1 < p2 (less).
double FisherExactOneSided(int64_t k1, int64_t n1, int64_t k2, int64_t n2, bool greater);

// Boschloo's exact unconditional test: Fisher's one-sided p-value as the statistic, its p-value the supremum
// over the common probability pi of the chance of a statistic at most as large. More powerful than Fisher
// for the small arms crash sweeps have. Two-sided is twice the smaller one-sided p-value (as SciPy's
// boschloo_exact defines it), capped at 1. Cost grows as (n1+1)(n2+1); callers fall back to Fisher past
// kBoschlooMaxTables. BoschlooTwoSided remembers its results: the same table twice is computed once.
constexpr int64_t kBoschlooMaxTables = 40000;
double BoschlooOneSided(int64_t k1, int64_t n1, int64_t k2, int64_t n2, bool greater);
double BoschlooTwoSided(int64_t k1, int64_t n1, int64_t k2, int64_t n2);

// Multiple-comparison adjusted p-values, in the input order (as R's p.adjust "holm" and "BH").
std::vector<double> HolmAdjust(const std::vector<double>& p);
std::vector<double> BenjaminiHochbergAdjust(const std::vector<double>& p);

}  // namespace cg
