// stage_6's quant_model.json reader refuses a model whose lists do not fit
// its graph (what the executor and the emitter index by), naming the layer,
// instead of reading past a list. The first case is the input the
// quant_model_json fuzz target found: a requant list with one shift fewer
// than multipliers escaped as std::out_of_range.
#include "testing.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"

using namespace yq;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const json& synthetic_quant_model() {
  static const json model = [] {
    // One folder per process: CTest runs each test case as its own process, in parallel.
    const fs::path dir = test::fresh_temp_dir("quant-model-io-" + std::to_string(getpid()));
    const test::CliResult run = test::run_cli("run --imgsz 64 --through stage_6 --out " + (dir / "out").string(), dir);
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    return read_json_file(dir / "out/stage_6/quant_model.json");
  }();
  return model;
}

// Index of the first node named `name` in quant_model.json's node list.
size_t node_index(const json& model, const std::string& name) {
  for (size_t i = 0; i < model.at("nodes").size(); ++i) {
    if (model["nodes"][i].at("layer") == name) return i;
  }
  FAIL("no node " << name);
  return 0;
}

std::string refusal(const json& model) {
  try {
    quant_model_from_json(model, "quant_model.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("quant model reader: the written model reads back") {
  CHECK_NOTHROW(quant_model_from_json(synthetic_quant_model(), "quant_model.json"));
}

TEST_CASE("quant model reader: lists that do not fit the graph are refused naming the layer") {
  json model = synthetic_quant_model();
  const size_t conv = node_index(model, "conv1"), add = node_index(model, "c2f2.m0.add"), cat = node_index(model, "c2f2.cat");
  SUBCASE("a requant word without its shift") {
    model["nodes"][conv]["conv"]["requant"]["shift"].erase(0);
    CHECK(refusal(model) == "quant_model.json: layer conv1: 32 requant multipliers but 31 shifts");
  }
  SUBCASE("one requant word per output channel") {
    model["nodes"][conv]["conv"]["requant"]["shift"].erase(0);
    model["nodes"][conv]["conv"]["requant"]["multiplier"].erase(0);
    CHECK(refusal(model) == "quant_model.json: layer conv1: 31 requant words, not 32");
  }
  SUBCASE("a shift a 64-bit accumulator cannot take") {
    model["nodes"][conv]["conv"]["requant"]["shift"][3] = 63;
    CHECK(refusal(model) == "quant_model.json: layer conv1: requant shift outside 0..62");
  }
  SUBCASE("an activation table that does not exist") {
    model["nodes"][conv]["conv"]["silu_lut"] = 4096;
    CHECK(refusal(model).find("layer conv1: table index 4096 outside the") != std::string::npos);
  }
  SUBCASE("an add with one input requant") {
    model["nodes"][add]["input_requant"]["shift"].erase(0);
    model["nodes"][add]["input_requant"]["multiplier"].erase(0);
    CHECK(refusal(model) == "quant_model.json: layer c2f2.m0.add: 1 requant words, not 2");
  }
  SUBCASE("a concat missing an input's requant") {
    model["nodes"][cat].erase("input_requant");
    CHECK(refusal(model) == "quant_model.json: layer c2f2.cat: 0 requant words, not 3");
  }
  SUBCASE("a code format wider than 16 bits") {
    model["nodes"][conv]["out"]["bits"] = 17;
    CHECK(refusal(model) == "quant_model.json: layer conv1: code format of 17 bits outside 2..16");
  }
  SUBCASE("a head level's table out of range") {
    model["head"][0]["exp_lut"] = -1;
    CHECK(refusal(model).find("quant_model.json: a head level's tables are outside the model's") == 0);
  }
}

// The second input the fuzz target found (tests/fuzz/regressions/
// quant_model_json/): a huge float where an integer is read, which
// nlohmann-json converts with an undefined static_cast.
TEST_CASE("quant model reader: a number that is not an integer of the field's range is refused naming the field") {
  json model = synthetic_quant_model();
  const size_t conv = node_index(model, "conv1");
  SUBCASE("a float too large for any integer") {
    model["luts"][0]["index_bits"] = 8.4e88;
    CHECK(refusal(model) == "quant_model.json: index_bits: expected an integer from -2147483648 to 2147483647, found 8.4e+88");
  }
  SUBCASE("a fraction") {
    model["image_size"] = {64.5, 64};
    CHECK(refusal(model) == "quant_model.json: image_size[0]: expected an integer from -2147483648 to 2147483647, found 64.5");
  }
  SUBCASE("an integer that does not fit the field") {
    model["nodes"][conv]["conv"]["requant"]["shift"][2] = 4294967296LL;
    CHECK(refusal(model) ==
          "quant_model.json: layer conv1: shift[2]: expected an integer from -2147483648 to 2147483647, found 4294967296");
  }
  SUBCASE("a string") {
    model["settings"]["weight_bits"] = "8";
    CHECK(refusal(model) == "quant_model.json: weight_bits: expected an integer from -2147483648 to 2147483647, found \"8\"");
  }
}

