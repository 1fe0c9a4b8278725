// Standalone SVG heatmaps (`crashgrid heatmap`, bug-report bundles): one file a person can paste into an
// issue tracker. Every piece of text is XML-escaped; the image carries no script and no external reference.
#pragma once

#include <string>
#include <vector>

#include "report/heatmap.h"

namespace cg {

// One map as a complete SVG document. `caption` is an extra line under the title (the run, the workload).
// Each cell prints its counts, rate with interval and verdict; hovering it shows its <title> in browsers
// that support it. The image is as wide as its widest text (legend, title, caption, labels; measured at
// 0.6 em per character), so nothing is cut off however few columns the grid has.
std::string RenderSvgHeatmap(const Heatmap& map, const std::string& caption);

// Several maps (one per combination of the axes beyond the second) stacked in one SVG document.
std::string RenderSvgHeatmaps(const std::vector<Heatmap>& maps, const std::string& caption);

}  // namespace cg
