// Special functions behind the exact intervals and tests: regularized incomplete beta and gamma and their
// inverses. Internal to stats; accurate to ~1e-10, which is far below anything a crash table shows.
#pragma once

namespace cg::special {

// log of the binomial coefficient C(n, k).
double LogChoose(double n, double k);
// I_x(a, b), the regularized incomplete beta function (the Beta(a, b) CDF at x).
double BetaCdf(double x, double a, double b);
// x with BetaCdf(x, a, b) = p.
double BetaQuantile(double p, double a, double b);
// P(a, x), the regularized lower incomplete gamma function (the Gamma(a, 1) CDF at x).
double GammaCdf(double x, double a);
// x with GammaCdf(x, a) = p.
double GammaQuantile(double p, double a);

}  // namespace cg::special
