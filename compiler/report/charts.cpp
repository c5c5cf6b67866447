// Charts with PLplot: a plstream on the "svg" device writes one page to a
// temporary file, which is read back and removed. Colours are a fixed cmap0
// (white background, black axes, then one colour per series), so the same
// data gives the same bytes.
#include "compiler/report/charts.hpp"

#include <plplot/plstream.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"

namespace yq {
namespace {

namespace fs = std::filesystem;

constexpr int kBackground = 0, kAxes = 1, kFirstSeries = 2, kReference = 7;
constexpr PLINT kRed[] = {255, 0, 31, 255, 44, 214, 148, 128};
constexpr PLINT kGreen[] = {255, 0, 119, 127, 160, 39, 103, 128};
constexpr PLINT kBlue[] = {255, 0, 180, 14, 44, 40, 189, 128};
constexpr int kSeriesColours = kReference - kFirstSeries;

// PLplot reads '#' as the start of an escape sequence; "##" is a literal '#'.
std::string plplot_text(const std::string& text) {
  std::string escaped;
  for (char c : text) escaped += c == '#' ? std::string("##") : std::string(1, c);
  return escaped;
}

fs::path temporary_svg() {
  static std::atomic<int> counter{0};
  return fs::temp_directory_path() /
         ("yq-hw-chart-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".svg");
}

// Runs draw(stream) on a fresh SVG page and returns the <svg> element.
template <typename Draw>
std::string render_svg(const Chart& chart, Draw draw) {
  const fs::path file = temporary_svg();
  {
    plstream stream;
    stream.sdev("svg");
    stream.sfnam(file.c_str());
    stream.spage(0, 0, chart.width, chart.height, 0, 0);
    stream.scmap0(kRed, kGreen, kBlue, std::size(kRed));
    stream.init();
    stream.adv(0);
    draw(stream);
  }  // the destructor ends the page and closes the file
  std::string svg = read_file_bytes(file);
  fs::remove(file);
  const size_t start = svg.find("<svg");
  if (start == std::string::npos) throw Error("PLplot wrote no <svg> element for the chart \"" + chart.title + "\"");
  svg.erase(0, start);
  // PLplot numbers its clip paths from 0 in every file: prefix them so that several charts can share a page.
  for (size_t at = svg.find("text-clipping"); at != std::string::npos; at = svg.find("text-clipping", at + chart.id.size() + 14)) {
    svg.insert(at, chart.id + "-");
  }
  // PLplot sizes the page in points; in a web page the chart is as many pixels wide as its viewBox.
  const size_t tag_end = svg.find('>');
  for (size_t at = svg.find("pt\"", 0); at < tag_end; at = svg.find("pt\"", at)) svg.erase(at, 2);
  return svg;
}

struct Range {
  double low = 0, high = 1;
};

Range value_range(const Chart& chart, bool include_zero) {
  double low = include_zero ? 0.0 : INFINITY, high = include_zero ? 0.0 : -INFINITY;
  for (const ChartSeries& s : chart.series) {
    for (double v : s.y) {
      if (!std::isfinite(v)) continue;
      low = std::min(low, v);
      high = std::max(high, v);
    }
  }
  if (chart.reference_y) {
    low = std::min(low, *chart.reference_y);
    high = std::max(high, *chart.reference_y);
  }
  if (!std::isfinite(low)) return {};
  const double margin = high > low ? 0.08 * (high - low) : std::max(1.0, std::abs(high) * 0.1);
  return {low < 0 || !include_zero ? low - margin : low, high + margin};
}

Range x_range(const Chart& chart) {
  double low = INFINITY, high = -INFINITY;
  for (const ChartSeries& s : chart.series) {
    for (double v : s.x) {
      low = std::min(low, v);
      high = std::max(high, v);
    }
  }
  if (!std::isfinite(low)) return {};
  const double margin = high > low ? 0.1 * (high - low) : 1.0;
  return {low - margin, high + margin};
}

// Title, axis labels, a legend (each series' label in its colour above the
// plot) and the dashed reference line.
void decorate(plstream& stream, const Chart& chart, Range x) {
  stream.col0(kAxes);
  stream.schr(0, 0.9);
  stream.mtex("t", 2.6, 0.5, 0.5, plplot_text(chart.title).c_str());
  stream.schr(0, 0.75);
  stream.mtex("l", 4.0, 0.5, 0.5, plplot_text(chart.y_label).c_str());
  if (!chart.x_label.empty()) stream.mtex("b", chart.categories.empty() ? 2.8 : 7.5, 0.5, 0.5, plplot_text(chart.x_label).c_str());
  for (size_t i = 0; i < chart.series.size(); ++i) {
    stream.col0(kFirstSeries + static_cast<int>(i % kSeriesColours));
    const double position = (i + 0.5) / std::max<size_t>(chart.series.size(), 1);
    stream.mtex("t", 1.0, position, 0.5, plplot_text(chart.series[i].label).c_str());
  }
  if (chart.reference_y) {
    stream.col0(kReference);
    stream.lsty(2);
    const PLFLT xs[] = {x.low, x.high}, ys[] = {*chart.reference_y, *chart.reference_y};
    stream.line(2, xs, ys);
    stream.lsty(1);
    stream.ptex(x.low + 0.01 * (x.high - x.low), *chart.reference_y, 1, 0, 0, plplot_text(" " + chart.reference_label).c_str());
  }
}

}  // namespace

std::string bar_chart_svg(const Chart& chart) {
  return render_svg(chart, [&](plstream& stream) {
    const Range x{-0.5, static_cast<double>(chart.categories.size()) - 0.5};
    const Range y = value_range(chart, true);
    stream.vpor(0.07, 0.99, 0.34, 0.86);
    stream.wind(x.low, x.high, y.low, y.high);
    stream.col0(kAxes);
    stream.schr(0, 0.7);
    stream.box("bc", 0, 0, "bcnstgv", 0, 0);
    const double group = 0.8, bar = group / std::max<size_t>(chart.series.size(), 1);
    for (size_t s = 0; s < chart.series.size(); ++s) {
      stream.col0(kFirstSeries + static_cast<int>(s % kSeriesColours));
      for (size_t i = 0; i < chart.series[s].y.size() && i < chart.categories.size(); ++i) {
        const double v = chart.series[s].y[i];
        if (!std::isfinite(v)) continue;
        const double left = static_cast<double>(i) - group / 2 + s * bar;
        const PLFLT xs[] = {left, left + bar, left + bar, left}, ys[] = {0, 0, v, v};
        stream.fill(4, xs, ys);
      }
    }
    stream.col0(kAxes);
    stream.schr(0, std::clamp(50.0 / std::max<size_t>(chart.categories.size(), 1), 0.3, 0.55));
    for (size_t i = 0; i < chart.categories.size(); ++i) {
      const double position = (static_cast<double>(i) - x.low) / (x.high - x.low);
      stream.mtex("bv", 0.5, position, 1.0, plplot_text(chart.categories[i]).c_str());
    }
    decorate(stream, chart, x);
  });
}

std::string line_chart_svg(const Chart& chart) {
  return render_svg(chart, [&](plstream& stream) {
    const Range x = x_range(chart);
    const Range y = value_range(chart, false);
    stream.vpor(0.1, 0.97, 0.16, 0.84);
    stream.wind(x.low, x.high, y.low, y.high);
    stream.col0(kAxes);
    stream.schr(0, 0.7);
    stream.box("bcnst", 0, 0, "bcnstgv", 0, 0);
    for (size_t s = 0; s < chart.series.size(); ++s) {
      const ChartSeries& series = chart.series[s];
      std::vector<size_t> order(series.x.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return series.x[a] < series.x[b]; });
      std::vector<PLFLT> xs, ys;
      for (size_t i : order) {
        xs.push_back(series.x[i]);
        ys.push_back(series.y[i]);
      }
      stream.col0(kFirstSeries + static_cast<int>(s % kSeriesColours));
      stream.width(2);
      stream.line(static_cast<PLINT>(xs.size()), xs.data(), ys.data());
      stream.width(1);
      stream.poin(static_cast<PLINT>(xs.size()), xs.data(), ys.data(), 17);
      for (size_t i : order) {
        if (i < series.point_labels.size()) {
          stream.ptex(series.x[i], series.y[i], 1, 0, -0.1, plplot_text(series.point_labels[i]).c_str());
        }
      }
    }
    decorate(stream, chart, x);
  });
}

}  // namespace yq
