// `yq-hw report RUN [RUN2 ...] [-o FILE]` and the report `yq-hw run` writes
// at its end: reads each run folder's artifacts (compiler/report/report_inputs.hpp)
// and writes report.html (compiler/report/html_report.hpp).
#pragma once
#include <filesystem>
#include <optional>
#include <vector>

#include "compiler/report/report_inputs.hpp"

namespace yq {

// Everything the report shows about one run folder. Throws yq::Error when
// the folder is not a run (no stage_0/config.json).
RunReportInputs read_run_report_inputs(const std::filesystem::path& run);

// Reads every run, then writes the page atomically to `output` (default:
// <runs[0]>/report.html) and returns where. Nothing is written on an error.
std::filesystem::path write_run_report(const std::vector<std::filesystem::path>& runs,
                                       const std::optional<std::filesystem::path>& output);

}  // namespace yq
