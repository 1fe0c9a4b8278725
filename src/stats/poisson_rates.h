// Comparing two crash rates per unit of exposure (crashes per minute of workload) when the two sides' trials
// ran for different lengths, where crashes per trial are not comparable. Pure functions, no I/O.
#pragma once

#include <cstdint>

namespace cg {

// The exact conditional test for two Poisson rates: k1 events over exposure e1 against k2 over e2. Given
// k1 + k2 events, k1 ~ Binomial(k1 + k2, e1 / (e1 + e2)) when the rates are equal; two-sided the way R's
// binom.test (and poisson.test) does it: the probability of every k1 no more likely than the observed one
// (relative tolerance 1e-7). 1 when there is no event or an exposure is not positive.
double PoissonRatesTwoSided(int64_t k1, double e1, int64_t k2, double e2);

}  // namespace cg
