// report.html: one self-contained page (charts as inline SVG, images as
// base64 PNG data URIs, no scripts, nothing fetched) about one run, or a bit
// sweep over several. Sections, each present only when its source is:
//   settings     stage_0/config.json (quant settings, checkpoint SHA-256)
//   accuracy     float vs integer mAP50-95, mAP50, P, R, retained %, per
//                folder, and the paired difference with its interval
//   bit-sweep    with several runs: mAP50-95 and weight bytes vs bits
//   fidelity     per-layer SQNR and clip rate (stage_8/report.json)
//   certificate  accumulator bits needed vs provided (stage_6)
//   golden       the golden image with each model's detections drawn
//   rtl          RTL cycles and MAC utilization per layer (bench logs)
// Every string taken from a file is HTML-escaped.
#pragma once
#include <string>
#include <vector>

#include "compiler/report/report_inputs.hpp"

namespace yq {

// The page for runs[0] (its detailed sections) and, with more runs, the
// sweep over all of them. Throws yq::Error when runs is empty.
std::string report_html(const std::vector<RunReportInputs>& runs);

std::string html_escape(const std::string& text);
std::string base64_encode(const std::string& bytes);

}  // namespace yq
