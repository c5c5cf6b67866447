// The report's charts, drawn by PLplot's SVG device (libplplot-dev): a bar
// chart over named categories (one bar per layer) and a line chart of points
// (x, y). Each returns the <svg> element alone, ready to inline in HTML.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace yq {

struct ChartSeries {
  std::string label;
  std::vector<double> x;  // bar charts: ignored (bar i sits at category i)
  std::vector<double> y;
  std::vector<std::string> point_labels;  // line charts: optional text beside each point
};

struct Chart {
  std::string id;  // unique in the page: prefixes the SVG's own element ids
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<std::string> categories;  // bar charts: the name under each bar
  std::vector<ChartSeries> series;
  std::optional<double> reference_y;    // a horizontal dashed line (e.g. a limit)
  std::string reference_label;
  int width = 1200;  // pixels
  int height = 380;
};

// Bars side by side per category (series i in colour i).
std::string bar_chart_svg(const Chart& chart);

// Lines through each series' points, in order of x.
std::string line_chart_svg(const Chart& chart);

}  // namespace yq
