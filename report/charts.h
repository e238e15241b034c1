// Charts as SVG (report/svg.h): line charts (training curves, loss against keep ratio),
// histograms (|G|, margins) and heat maps (neuron load, tokens per expert).
//
// Every chart writes what it plots into data-* attributes, so a reader (or a test) can take the
// numbers back out of the file without inverting the pixel transform:
//   line chart  <g class="series" data-name="NAME" data-x="x0 x1 ..." data-y="y0 y1 ...">
//               (the finite points plotted, in order; a log axis drops values <= 0 too)
//   histogram   <g class="histogram" data-edges="e0 e1 ... en" data-counts="c0 ... c(n-1)">
//   heat map    <g class="heatmap" data-rows="R" data-cols="C" data-values="v(0,0) v(0,1) ...">
// Numbers are written with %.9g.
#pragma once

#include <string>
#include <vector>

namespace mone::report {

struct Series {
  std::string name;
  std::vector<double> x, y;  // same length
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;  // one colour each, with a legend when there are several
  bool log_x = false, log_y = false;
  bool markers = false;        // a dot on every point (for few points)
  double width = 560, height = 360;
};
std::string line_chart_svg(const LineChart& chart);

struct Histogram {
  std::string title, x_label, y_label = "count";
  std::vector<double> edges;   // n + 1 bin edges, ascending
  std::vector<double> counts;  // n
  bool log_y = false;          // log(1 + count) bar heights, for heavy-tailed counts
  double width = 560, height = 320;
};
std::string histogram_svg(const Histogram& h);

struct Heatmap {
  std::string title, x_label, y_label, value_label;
  int64_t rows = 0, cols = 0;
  std::vector<double> values;  // rows · cols, row-major
  std::vector<std::string> row_labels;  // optional, one per row
  double width = 640, height = 0;       // 0: sized to the rows
};
std::string heatmap_svg(const Heatmap& h);

}  // namespace mone::report
