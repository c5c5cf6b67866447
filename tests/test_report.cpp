// report.html of synthetic runs (built-in model, 64x64, two tiny labelled
// folders): each section is there when its artifact is, strings from files
// are escaped, every chart is well-formed SVG whose bars and labels are the
// run's own figures, the golden images are PNGs of the canvas; a sweep over
// two runs plots mAP and size against bits; and headless Chromium renders
// every chart and image (not blank) with no script or load error.
#include "testing.hpp"

#include <stb_image.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_support.hpp"
#include "compiler/io/image.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/util/files.hpp"

using namespace yq;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int kImageSize = 64;

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

// Two labelled folders of one test-pattern image each; the first folder's
// name holds characters HTML must escape.
std::vector<fs::path> make_data(const fs::path& dir) {
  std::vector<fs::path> folders = {dir / "data<&>", dir / "more"};
  for (int i = 0; i < 2; ++i) {
    fs::create_directories(folders[i] / "images");
    fs::create_directories(folders[i] / "labels");
    const std::string id = "image" + std::to_string(i);
    write_png(folders[i] / "images" / (id + ".png"), test_pattern_image(96, 80, i));
    std::ofstream(folders[i] / "labels" / (id + ".txt")) << "0 0.5 0.5 0.5 0.4\n2 0.3 0.3 0.2 0.2\n";
  }
  return folders;
}

std::string run_arguments(const std::vector<fs::path>& data, int bits, const fs::path& out) {
  return "run --imgsz " + std::to_string(kImageSize) + " --bits " + std::to_string(bits) + " --data " + quoted(data[0]) +
         " --data " + quoted(data[1]) + " --out " + quoted(out);
}

fs::path make_run(const fs::path& dir, const std::vector<fs::path>& data, int bits) {
  const fs::path out = dir / ("w" + std::to_string(bits));
  const test::CliResult result = test::run_cli(run_arguments(data, bits, out), dir);
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  return out;
}

json read_json(const fs::path& file) { return json::parse(test::read_text(file)); }

std::string fixed(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

// The <svg> element of <figure ... id="<id>">, or empty.
std::string chart_svg(const std::string& html, const std::string& id) {
  const size_t figure = html.find("id=\"" + id + "\"");
  if (figure == std::string::npos) return "";
  const size_t begin = html.find("<svg", figure), end = html.find("</svg>", figure);
  return begin < end && end != std::string::npos ? html.substr(begin, end + 6 - begin) : "";
}

struct SvgSummary {
  std::vector<double> bar_heights;
  std::vector<std::string> texts;
  bool has_text(const std::string& text) const { return std::find(texts.begin(), texts.end(), text) != texts.end(); }
};

// tests/svg_summary.py: parses the SVG as XML (fails if not well-formed) and lists its bars and texts.
SvgSummary summarize(const std::string& svg, const fs::path& dir) {
  const fs::path file = dir / "chart.svg";
  std::ofstream(file, std::ios::binary) << svg;
  std::string output;
  const int status = test::run_command("python3 " + (fs::path(YQ_SOURCE_DIR) / "tests/svg_summary.py").string() + " " +
                                           file.string() + " 2>&1", output);
  INFO(output.substr(0, 400));
  REQUIRE(status == 0);
  SvgSummary summary;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("BAR ")) summary.bar_heights.push_back(std::stod(line.substr(4)));
    if (line.starts_with("TEXT ")) summary.texts.push_back(line.substr(5));
  }
  return summary;
}

// The bars are the values: one per value, heights proportional to them.
void check_bars(const SvgSummary& chart, const std::vector<double>& values) {
  REQUIRE(chart.bar_heights.size() == values.size());
  double top_height = 0, top_value = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::abs(values[i]) > top_value) top_value = std::abs(values[i]), top_height = std::abs(chart.bar_heights[i]);
  }
  REQUIRE(top_value > 0);
  for (size_t i = 0; i < values.size(); ++i) {
    CAPTURE(i);
    CHECK(std::abs(chart.bar_heights[i] - values[i] * top_height / top_value) <= 0.02 + 0.005 * top_height);
  }
}

struct Decoded {
  int width = 0, height = 0;
  std::vector<unsigned char> pixels;  // RGB
};

Decoded decode_png(const std::string& bytes) {
  Decoded image;
  int channels = 0;
  unsigned char* data = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()),
                                              &image.width, &image.height, &channels, 3);
  REQUIRE(data != nullptr);
  image.pixels.assign(data, data + static_cast<size_t>(image.width) * image.height * 3);
  stbi_image_free(data);
  return image;
}

std::string base64_decode(const std::string& text) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  std::uint32_t group = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const size_t value = alphabet.find(c);
    if (value == std::string::npos) FAIL("not base64: " << c);
    group = (group << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((group >> bits) & 0xFF);
    }
  }
  return bytes;
}

// Every "data:image/png;base64,..." image of the page, decoded.
std::vector<Decoded> page_images(const std::string& html) {
  std::vector<Decoded> images;
  const std::string prefix = "src=\"data:image/png;base64,";
  for (size_t at = html.find(prefix); at != std::string::npos; at = html.find(prefix, at + 1)) {
    const size_t begin = at + prefix.size();
    images.push_back(decode_png(base64_decode(html.substr(begin, html.find('"', begin) - begin))));
  }
  return images;
}

size_t distinct_colours(const Decoded& image) {
  std::vector<std::uint32_t> colours;
  for (size_t i = 0; i + 2 < image.pixels.size(); i += 3) {
    colours.push_back(image.pixels[i] << 16 | image.pixels[i + 1] << 8 | image.pixels[i + 2]);
  }
  std::sort(colours.begin(), colours.end());
  return std::unique(colours.begin(), colours.end()) - colours.begin();
}

int count_lines_without_hash(const fs::path& file) {
  std::ifstream in(file);
  int count = 0;
  for (std::string line; std::getline(in, line);) count += !line.empty() && line[0] != '#';
  return count;
}

}  // namespace

// Both make runs of the yq-hw command: the pipeline tier.
TEST_SUITE_BEGIN("pipeline");

TEST_CASE("report: a run's report.html holds its settings, accuracy, per-layer charts, certificate and golden images") {
  const fs::path dir = test::fresh_temp_dir("report-sections");
  if (!test::require_programs({"python3"}, "the SVG checks of report.html")) return;
  const std::vector<fs::path> data = make_data(dir);
  const fs::path run = make_run(dir, data, 8);
  const std::string html = test::read_text(run / "report.html");  // written by `yq-hw run`
  for (const char* section : {"settings", "accuracy", "fidelity", "certificate", "golden"}) {
    CHECK_MESSAGE(html.find(std::string("<section id=\"") + section + "\"") != std::string::npos, std::string(section));
  }
  CHECK(html.find("id=\"bit-sweep\"") == std::string::npos);  // one run
  CHECK(html.find("id=\"rtl\"") == std::string::npos);        // no bench log
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("data&lt;&amp;&gt;") != std::string::npos);
  CHECK(html.find("data<&>") == std::string::npos);

  // Accuracy: the files' figures, per folder too, and the paired interval.
  const json float_metrics = read_json(run / "stage_3/metrics.json");
  const json report = read_json(run / "stage_8/report.json");
  CHECK(html.find("<td>" + fixed("%.4f", float_metrics["map50_95"]) + "</td>") != std::string::npos);
  CHECK(html.find("<td>" + fixed("%.4f", report["integer"]["recall"]) + "</td>") != std::string::npos);
  for (const json& folder : report["integer_folders"]) {  // one row each, the path escaped
    std::string path = folder["data"];
    test::replace_all(path, "&", "&amp;");
    test::replace_all(path, "<", "&lt;");
    test::replace_all(path, ">", "&gt;");
    CHECK(html.find("<tr><td>" + path + "</td>") != std::string::npos);
  }
  CHECK(html.find("<b>" + fixed("%+.2f", report["paired_difference"]["delta_map50_95_points"]) + " points</b>") != std::string::npos);

  // Per-layer charts: one bar per tensor at its value, every layer named.
  std::vector<double> sqnr, clip;
  const SvgSummary sqnr_chart = summarize(chart_svg(html, "chart-sqnr"), dir);
  for (const json& layer : report["layers"]) {
    sqnr.push_back(layer["sqnr_db"]);
    clip.push_back(100.0 * layer["clip_rate"].get<double>());
    CHECK_MESSAGE(sqnr_chart.has_text(layer["layer"]), layer["layer"]);
  }
  check_bars(sqnr_chart, sqnr);
  if (*std::max_element(clip.begin(), clip.end()) > 0) check_bars(summarize(chart_svg(html, "chart-clip"), dir), clip);

  // The certificate: accumulator bits per convolution, the limit drawn.
  const json certificate = read_json(run / "stage_6/certificate.json");
  std::vector<double> needed;
  for (const json& layer : certificate["layers"]) needed.push_back(layer["accumulator_bits"]);
  const SvgSummary certificate_chart = summarize(chart_svg(html, "chart-certificate"), dir);
  check_bars(certificate_chart, needed);
  CHECK(certificate_chart.has_text(" provided: " + std::to_string(certificate["limit_bits"].get<int>()) + " bits"));

  // Golden image: float, q_NMS and float-NMS panels of the 64x64 canvas, scaled up 7x.
  const std::vector<Decoded> images = page_images(html);
  REQUIRE(images.size() == 3);
  for (const Decoded& image : images) {
    CHECK(image.width == kImageSize * 7);
    CHECK(image.height == kImageSize * 7);
    CHECK(distinct_colours(image) > 50);
  }
  CHECK(html.find("integer model, q_NMS: " + std::to_string(count_lines_without_hash(run / "stage_8/golden/q_nms.txt")) +
                  " detections") != std::string::npos);

  // A report that cannot be written (report.html is a folder) is a warning: the run still succeeds.
  fs::remove(run / "report.html");
  fs::create_directories(run / "report.html/blocked");
  const test::CliResult resumed = test::run_cli(run_arguments(data, 8, run) + " --from stage_8", dir);
  CHECK(resumed.exit_code == 0);
  CHECK(resumed.out.find("warning: report.html not written") != std::string::npos);
  CHECK(fs::exists(run / "stage_8/summary.json"));
}

namespace {

// Injected into a copy of the report (the report itself has no scripts): records
// every error event (script errors and resources that fail to load) and, once
// loaded, writes each figure's chart or image box (page pixels) into the page.
const char* const kProbe = R"(<script>
window.yqErrors = [];
window.addEventListener('error', function (e) { window.yqErrors.push(e.message || 'load failed'); }, true);
window.addEventListener('load', function () {
  var lines = ['ERRORS ' + window.yqErrors.length];
  document.querySelectorAll('figure').forEach(function (f) {
    var e = f.querySelector('svg, img');
    if (!e) return;
    var r = e.getBoundingClientRect();
    var loaded = e.tagName != 'IMG' || (e.complete && e.naturalWidth > 0);
    lines.push('ELEMENT ' + f.id + ' ' + Math.round(r.left + window.scrollX) + ' ' + Math.round(r.top + window.scrollY) + ' ' +
               Math.round(r.width) + ' ' + Math.round(r.height) + ' ' + (loaded ? 1 : 0));
  });
  lines.push('HEIGHT ' + document.documentElement.scrollHeight);
  var pre = document.createElement('pre');
  pre.id = 'yq-probe';
  pre.textContent = lines.join('\n');
  document.body.appendChild(pre);
});
</script>)";

struct Region {
  std::string id;
  int x = 0, y = 0, width = 0, height = 0;
  bool loaded = false;
};

struct Probe {
  int errors = -1;
  int page_height = 0;
  std::vector<Region> regions;
  std::string browser_log;
};

std::string chromium(const std::string& options, const fs::path& page, const fs::path& log) {
  std::string output;
  test::run_command("chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 " + options + " file://" +
                        page.string() + " 2>" + log.string(),
                    output);
  return output;
}

Probe probe(const std::string& html, const fs::path& dir, const std::string& name) {
  std::string page = html;
  page.replace(page.find("<head>"), 6, std::string("<head>") + kProbe);
  const fs::path file = dir / (name + ".html");
  std::ofstream(file, std::ios::binary) << page;
  const std::string dom = chromium("--window-size=1400,1000 --dump-dom", file, dir / (name + ".log"));
  Probe result;
  result.browser_log = test::read_text(dir / (name + ".log"));
  const size_t begin = dom.find("<pre id=\"yq-probe\">");
  REQUIRE_MESSAGE(begin != std::string::npos, "the probe did not run: " << result.browser_log);
  std::istringstream lines(dom.substr(begin + 19, dom.find("</pre>", begin) - begin - 19));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    if (kind == "ERRORS") words >> result.errors;
    if (kind == "HEIGHT") words >> result.page_height;
    if (kind == "ELEMENT") {
      Region r;
      int loaded = 0;
      words >> r.id >> r.x >> r.y >> r.width >> r.height >> loaded;
      r.loaded = loaded == 1;
      result.regions.push_back(r);
    }
  }
  return result;
}

// The share of a region's pixels that are not near-white, and its distinct colours.
std::pair<double, size_t> ink(const Decoded& shot, const Region& r) {
  size_t inked = 0, total = 0;
  std::vector<std::uint32_t> colours;
  for (int y = r.y; y < std::min(r.y + r.height, shot.height); ++y) {
    for (int x = r.x; x < std::min(r.x + r.width, shot.width); ++x) {
      const unsigned char* p = &shot.pixels[(static_cast<size_t>(y) * shot.width + x) * 3];
      inked += p[0] + p[1] + p[2] < 3 * 235;
      colours.push_back(p[0] << 16 | p[1] << 8 | p[2]);
      ++total;
    }
  }
  std::sort(colours.begin(), colours.end());
  const size_t distinct = std::unique(colours.begin(), colours.end()) - colours.begin();
  return {total ? static_cast<double>(inked) / total : 0.0, distinct};
}

// Headless Chromium renders every chart and image of the page (not blank), with no error.
void check_in_chromium(const std::string& html, const fs::path& dir) {
  const Probe page = probe(html, dir, "page");
  CHECK(page.errors == 0);
  CHECK(page.browser_log.find("CONSOLE") == std::string::npos);
  std::vector<std::string> ids;
  for (const Region& r : page.regions) ids.push_back(r.id);
  for (const char* id : {"chart-sweep-map", "chart-sweep-size", "chart-sqnr", "chart-clip", "chart-certificate", "golden-0",
                         "golden-1", "golden-2"}) {
    CHECK_MESSAGE(std::find(ids.begin(), ids.end(), id) != ids.end(), std::string(id));
  }
  REQUIRE(page.page_height > 0);
  chromium("--window-size=1400," + std::to_string(page.page_height) + " --screenshot=" + (dir / "page.png").string(),
           dir / "page.html", dir / "screenshot.log");
  const Decoded shot = decode_png(test::read_text(dir / "page.png"));
  REQUIRE(shot.height == page.page_height);
  for (const Region& r : page.regions) {
    CAPTURE(r.id);
    CHECK(r.loaded);
    CHECK(r.width >= 400);
    CHECK(r.height >= 300);
    CHECK(r.y + r.height <= shot.height);
    const auto [inked, colours] = ink(shot, r);
    CHECK(inked > 0.02);
    CHECK(colours >= 3);
  }

  // The probe sees a broken image: one data URI cut short.
  std::string broken = html;
  broken.insert(broken.find("data:image/png;base64,") + 22, "AAAA");
  const Probe damaged = probe(broken, dir, "broken");
  CHECK(damaged.errors >= 1);
  CHECK(std::count_if(damaged.regions.begin(), damaged.regions.end(), [](const Region& r) { return !r.loaded; }) == 1);
}

}  // namespace

TEST_CASE("report: a sweep over two runs plots mAP50-95 and weight bytes against bits, and headless Chromium shows every chart and image") {
  const fs::path dir = test::fresh_temp_dir("report-sweep");
  if (!test::require_programs({"python3"}, "the SVG checks of report.html")) return;
  const std::vector<fs::path> data = make_data(dir);
  const fs::path w8 = make_run(dir, data, 8), w6 = make_run(dir, data, 6);
  const std::string own = test::read_text(w8 / "report.html");
  const test::CliResult made = test::run_cli("report " + quoted(w8) + " " + quoted(w6) + " -o " + quoted(dir / "sweep.html"), dir);
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  CHECK(test::read_text(w8 / "report.html") == own);  // -o: the run's own report is left alone
  const std::string html = test::read_text(dir / "sweep.html");
  REQUIRE(html.find("<section id=\"bit-sweep\"") != std::string::npos);
  const SvgSummary map_chart = summarize(chart_svg(html, "chart-sweep-map"), dir);
  const SvgSummary size_chart = summarize(chart_svg(html, "chart-sweep-size"), dir);
  for (const SvgSummary* chart : {&map_chart, &size_chart}) {
    CHECK(chart->has_text("W8A8"));
    CHECK(chart->has_text("W6A6"));
  }
  for (const fs::path& run : {w8, w6}) {  // the table's sizes are yq-hw inspect's
    const test::CliResult inspected = test::run_cli("inspect --json " + quoted(run), dir);
    REQUIRE(inspected.exit_code == 0);
    for (const json& size : json::parse(inspected.out)["model_size"]) {
      if (size["format"] == "run") CHECK(html.find("<td>" + std::to_string(size["weight_bytes"].get<std::int64_t>()) + "</td>") != std::string::npos);
    }
    CHECK(html.find("<td>" + fixed("%.4f", read_json(run / "stage_8/report.json")["integer"]["map50_95"]) + "</td>") != std::string::npos);
  }
  if (test::require_programs({"chromium"}, "rendering report.html in headless Chromium")) check_in_chromium(html, dir);
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("rtl");

TEST_CASE("report: RTL cycles and MAC utilization per layer from a layer-bench log (make -C rtl_tb layers CHAIN=1)") {
  if (!test::require_programs({"verilator", "make", "python3"}, "the RTL section of report.html")) return;
  const fs::path dir = test::fresh_temp_dir("report-rtl");
  const fs::path run = dir / "run";
  REQUIRE(test::run_cli("run --imgsz 160 --out " + quoted(run), dir).exit_code == 0);
  std::string log;
  const int status = test::run_command("env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C '" +
                                           (fs::path(YQ_SOURCE_DIR) / "rtl_tb").string() + "' layers RUN=" + quoted(run) +
                                           " ARRAY=8x8 CHAIN=1 2>&1",
                                       log);
  INFO(log.substr(0, 2000));
  REQUIRE(status == 0);
  fs::create_directories(run / "rtl_bench");
  std::ofstream(run / "rtl_bench/layers-8x8.log") << log;  // where scripts/bench_rtl.sh puts its logs

  // The figures straight from the log's LAYER lines.
  std::vector<double> cycles, utilization;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("LAYER ") || line.find(" view ") != std::string::npos) continue;
    const size_t at = line.find(" cycles ");
    REQUIRE(at != std::string::npos);
    cycles.push_back(std::stod(line.substr(at + 8)));
    const size_t util = line.find(" util ");
    if (util != std::string::npos) utilization.push_back(std::stod(line.substr(util + 6)));
  }
  REQUIRE(cycles.size() >= 63);
  REQUIRE(utilization.size() == 63);  // the synthetic YOLOv8n's convolutions

  REQUIRE(test::run_cli("report " + quoted(run), dir).exit_code == 0);
  const std::string html = test::read_text(run / "report.html");
  REQUIRE(html.find("<section id=\"rtl\"") != std::string::npos);
  check_bars(summarize(chart_svg(html, "chart-rtl-cycles-0"), dir), cycles);
  check_bars(summarize(chart_svg(html, "chart-rtl-utilization-0"), dir), utilization);
  const size_t total = log.find("TOTAL conv:");
  REQUIRE(total != std::string::npos);
  CHECK(html.find("<code>" + log.substr(total, log.find('\n', total) - total) + "</code>") != std::string::npos);
  CHECK(html.find("No RTL detections") != std::string::npos);
}

TEST_SUITE_END();
