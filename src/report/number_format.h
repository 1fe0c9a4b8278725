// How numbers read in every table, listing and page: percentages, intervals, p-values and cell keys. The one
// home of these formats, so that "99.5%" and "[0.088-2.8]" read the same in `table`, the heatmap, `compare`
// and the HTML report. Pure functions.
#pragma once

#include <string>

#include "stats/stats.h"

namespace cg {

enum class Rounding { kNearest, kDown, kUp };

// A fraction as a percentage without the '%': whole percent from 10% up, one decimal below (two significant
// digits below 0.1%), rounded as asked (interval bounds outwards, so the printed interval contains the computed
// one). More decimals are shown where the rounding would print 0 or 100 for a value that is neither: 199/200
// reads "99.5", a lower bound of 0.088% reads "0.088", not "0".
std::string PercentText(double fraction, Rounding rounding = Rounding::kNearest);
// PercentText with the '%': "0.8%", "15%", "99.5%", "100%".
std::string FormatPercent(double fraction);
// An interval in percent, bounds rounded outwards: "[0.088-2.8]" (no '%').
std::string IntervalText(const Interval& iv);
// "15% [5.2-36%]": a rate and its interval as printed in a cell, the bounds rounded outwards.
std::string FormatRateAndInterval(double rate, const Interval& iv);
// A p-value of a test: "0.0255", "<0.0001".
std::string PValueText(double p);
// A cell key for display: "(all)" for the empty key (a run without axes, or a comparison that shares none).
std::string DisplayCellKey(const std::string& key);

}  // namespace cg
