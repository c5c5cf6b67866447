// The emission (compiler/emit/hw_emitter.hpp): plan the memories, write each
// layer's and table's `$readmemh` text (appending its words, widened, to the
// unified memory image as it goes), then the layer program, the LUT
// directory, the Verilog header and the manifest. Every file written is recorded with its size and
// SHA-256 for the manifest.
#include "compiler/emit/hw_emitter.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <nlohmann/json.hpp>

#include "compiler/emit/band_program.hpp"
#include "compiler/emit/dram_image.hpp"
#include "compiler/emit/layer_program.hpp"
#include "compiler/emit/verilog_header.hpp"
#include "compiler/ref/arithmetic.hpp"
#include "compiler/detect/detection.hpp"
#include "compiler/quant/lut_builder.hpp"
#include "compiler/quant/quant_model.hpp"
#include "compiler/ref/int_head.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"

namespace yq {

namespace fs = std::filesystem;

namespace {

// Writes files into the emission folder and records each one for the manifest.
class EmissionWriter {
 public:
  explicit EmissionWriter(fs::path folder) : folder_(std::move(folder)) {}

  void write(const std::string& file, std::string_view text) {
    fs::create_directories((folder_ / file).parent_path());
    write_file_atomic(folder_ / file, text);
    files_.push_back({{"file", file}, {"bytes", text.size()}, {"sha256", sha256_hex(text)}});
  }

  const nlohmann::json& files() const { return files_; }

 private:
  fs::path folder_;
  nlohmann::json files_ = nlohmann::json::array();
};

// One memory of the accelerator: its image file ("" for the feature maps, written at run time).
struct Memory {
  std::string name;
  std::string file;
  int width = 0;
  std::int64_t depth = 0;
  std::string contents;
};

template <typename T>
std::string hex_lines(const std::vector<T>& values, int bits) {
  std::string text;
  text.reserve(values.size() * ((bits + 3) / 4 + 1));
  for (T value : values) {
    if (!(value >= arith::min_code(bits) && value <= arith::max_code(bits))) {
      throw Error("value " + std::to_string(value) + " does not fit a " + std::to_string(bits) + "-bit word");
    }
    text += hex_word(value, bits);
    text += '\n';
  }
  return text;
}

std::string hex_lines(const std::vector<PackedWord>& words) {
  std::string text;
  for (const PackedWord& word : words) text += word.hex() + "\n";
  return text;
}

std::string requant_lines(const std::vector<Requant>& requants, const WordLayout& layout) {
  std::vector<PackedWord> words;
  for (const Requant& r : requants) {
    PackedWord word(layout);
    word["multiplier"] = r.multiplier;
    word["shift"] = r.shift;
    words.push_back(word);
  }
  return hex_lines(words);
}

// A table's entries as words of `width` bits: SiLU codes two's complement
// (sign-extended), sigmoid and exp values unsigned 16-bit (zero-extended).
std::string lut_lines(const QuantModel& model, int lut, int width) {
  const int value_bits = lut_value_bits(model, lut);
  const bool is_signed = lut_kind(model.luts[lut].kind) == LutKind::Silu;
  std::string text;
  for (std::int32_t value : model.luts[lut].values) {
    const bool fits = is_signed ? value >= arith::min_code(value_bits) && value <= arith::max_code(value_bits)
                                : value >= 0 && value < (std::int64_t{1} << value_bits);
    if (!fits) throw Error("table " + model.luts[lut].name + ": value " + std::to_string(value) + " out of range");
    text += hex_word(value, width) + "\n";
  }
  return text;
}

void check_file_name(const std::string& name) {
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      throw Error("name '" + name + "' cannot be used as a file name");
    }
  }
}

std::string layer_file(const Node& node, const char* what) {
  check_file_name(node.name);
  return "layers/" + node.name + "." + what + ".hex";
}

// Per-layer weight, bias and requant files (weights in the layer's own
// weight bits, biases in its own accumulator bits) and the unified memory
// images (every word widened to the memory's width).
void write_layer_memories(EmissionWriter& writer, const QuantModel& model, const MemoryMap& map, const WordWidths& widths,
                          Memory& weights, Memory& biases, Memory& requants) {
  const WordLayout requant = requant_layout(widths.multiplier);
  for (size_t i = 0; i < model.graph.nodes.size(); ++i) {
    const Node& node = model.graph.nodes[i];
    const QuantNode& q = model.nodes[i];
    if (node.op == OpKind::Conv) {
      writer.write(layer_file(node, "weights"), hex_lines(q.conv.weights, q.conv.weight_bits));
      writer.write(layer_file(node, "bias"), hex_lines(q.conv.bias, q.conv.acc_bits));
      weights.contents +=
          hex_lines(weight_rows(stored_weights(model, map, static_cast<int>(i)), node.channels), widths.weight);
      biases.contents += hex_lines(q.conv.bias, widths.bias);
    }
    const std::vector<Requant>& list = node.op == OpKind::Conv ? q.conv.requant : q.input_requant;
    if (list.empty()) continue;
    const std::string requant_text = requant_lines(list, requant);
    writer.write(layer_file(node, "requant"), requant_text);
    requants.contents += requant_text;
  }
}

std::string lut_file(const Lut& lut) {
  check_file_name(lut.name);
  return "luts/" + lut.name + ".hex";
}

// Per-table files in the table's own value bits; the unified image in the LUT memory's width.
void write_lut_memories(EmissionWriter& writer, const QuantModel& model, Memory& luts) {
  for (size_t l = 0; l < model.luts.size(); ++l) {
    const int lut = static_cast<int>(l);
    writer.write(lut_file(model.luts[l]), lut_lines(model, lut, lut_value_bits(model, lut)));
    luts.contents += lut_lines(model, lut, luts.width);
  }
}

int address_bits(std::int64_t depth) {
  int bits = 1;
  while ((std::int64_t{1} << bits) < depth) ++bits;
  return bits;
}

// The smallest and largest shift of every convolution's requant words (the
// whole field's range when the model has no convolution).
std::pair<int, int> conv_shift_window(const QuantModel& model) {
  int low = (1 << kShiftBits) - 1, high = 0;
  for (const int conv : model.graph.conv_nodes()) {
    for (const Requant& requant : model.nodes[static_cast<size_t>(conv)].conv.requant) {
      low = std::min(low, requant.shift);
      high = std::max(high, requant.shift);
    }
  }
  return low <= high ? std::pair{low, high} : std::pair{0, (1 << kShiftBits) - 1};
}

void header_versions(VerilogHeader& header, const QuantModel& model, const EmitOptions& options,
                     const WordWidths& widths) {
  header.section("Versions and model");
  header.integer("YQ_PARAMS_FORMAT_VERSION", kArtifactFormatVersion, "must equal yq_format.vh's YQ_FORMAT_VERSION");
  header.integer("YQ_ARITHMETIC_VERSION", arith::kArithmeticVersion, "docs/ARITHMETIC.md version");
  header.string("YQ_COMPILER_VERSION", YQ_VERSION);
  header.string("YQ_MODEL_SHA256", options.model_sha256, "source checkpoint");
  header.integer("YQ_IMAGE_HEIGHT", options.image_size.height, "input height, pixels");
  header.integer("YQ_IMAGE_WIDTH", options.image_size.width, "input width, pixels");
  header.integer("YQ_INPUT_CHANNELS", 3);
  header.integer("YQ_INPUT_ZERO", -128, "input code = pixel - 128");
  header.integer("YQ_NUM_LAYERS", static_cast<std::int64_t>(model.graph.nodes.size()), "descriptors in program.hex");
  header.integer("YQ_NUM_CONVS", static_cast<std::int64_t>(model.graph.conv_nodes().size()));
  header.integer("YQ_NUM_LUTS", static_cast<std::int64_t>(model.luts.size()));
  header.integer("YQ_NUM_LEVELS", static_cast<std::int64_t>(model.graph.levels.size()), "detect levels");
  header.integer("YQ_NUM_CLASSES", model.info.arch.num_classes);
  header.integer("YQ_REG_MAX", model.info.arch.reg_max, "DFL bins per box side");

  header.section("Arithmetic widths (bits)");
  header.integer("YQ_WEIGHT_BITS", widths.weight, "widest weight code");
  header.integer("YQ_ACT_BITS", widths.fmap, "widest code a feature-map word holds");
  header.integer("YQ_FMAP_PLANES", widths.planes ? 1 : 0, "1: wider codes are stored as two byte planes");
  header.integer("YQ_PRE_BITS", std::max(widths.pre, 1), "widest pre-activation code (--pre-bits may exceed YQ_ACT_BITS)");
  header.integer("YQ_ACC_BITS", widths.bias, "widest accumulator (overflow certificate)");
  header.integer("YQ_MULT_BITS", widths.multiplier, "requant multiplier, unsigned");
  header.integer("YQ_LUT_DIRECT_MAX_BITS", kMaxDirectLutBits, "wider codes use interpolated tables");
  const auto [shift_min, shift_max] = conv_shift_window(model);
  header.integer("YQ_CONV_SHIFT_MIN", shift_min, "convolution requant shifts lie in MIN..MAX");
  header.integer("YQ_CONV_SHIFT_MAX", shift_max, "(the conv engine's requant units take no other)");
}

// The detect head's tables (every level's sigmoid and exp) as the range of
// lut_mem they take: [first entry, entries to the end). They follow every
// SiLU table, so yq_top holds only them on chip.
std::pair<std::int64_t, std::int64_t> head_tables(const QuantModel& model, const MemoryMap& map) {
  std::vector<int> head_luts;
  for (const auto& level : model.head) head_luts.insert(head_luts.end(), {level.sigmoid_lut, level.exp_lut});
  std::int64_t base = map.lut_depth;
  for (int lut : head_luts) base = std::min(base, map.lut_bases[lut]);
  for (size_t lut = 0; lut < model.luts.size(); ++lut) {
    const bool head = std::find(head_luts.begin(), head_luts.end(), static_cast<int>(lut)) != head_luts.end();
    const std::int64_t end = map.lut_bases[lut] + static_cast<std::int64_t>(model.luts[lut].values.size());
    if (!head && end > base) throw Error("lut_mem: table " + model.luts[lut].name + " lies among the detect head's");
  }
  return {base, map.lut_depth - base};
}

// The integer head's and q_NMS's run-time constants (docs/ARITHMETIC.md
// sections 7-8): per level its class-logit width, stride and logit
// threshold (the score filter without a sigmoid), then the q_NMS options.
void header_head(VerilogHeader& header, const QuantModel& model, const MemoryMap& map, const IntNmsOptions& nms) {
  header.section("Detect head and q_NMS (docs/ARITHMETIC.md sections 7-8)");
  header.integer("YQ_SCORE_THRESHOLD", nms.score_threshold, "candidate when score > this (2^-16 units)");
  int threshold_bits = 0;
  std::vector<std::int64_t> thresholds;
  for (size_t l = 0; l < model.graph.levels.size(); ++l) {
    const DetectLevel& level = model.graph.levels[l];
    const std::string prefix = "YQ_LEVEL" + std::to_string(l);
    const int class_bits = model.nodes[level.class_node].out.bits;
    const std::int64_t threshold = logit_threshold_code(model.luts[model.head[l].sigmoid_lut], nms.score_threshold);
    header.integer(prefix + "_STRIDE", level.stride, "pixels per cell");
    header.integer(prefix + "_CLASS_BITS", class_bits, "class-logit code width");
    header.integer(prefix + "_LOGIT_THRESHOLD", threshold, "candidate when best logit code >= this");
    threshold_bits = std::max(threshold_bits, class_bits + 1);
    thresholds.push_back(threshold);
  }
  header.integer("YQ_LOGIT_THRESHOLD_BITS", threshold_bits, "signed; one more than the widest class logit");
  header.packed("YQ_LEVEL_LOGIT_THRESHOLDS", threshold_bits, thresholds,
                "level l's at [l*YQ_LOGIT_THRESHOLD_BITS +: YQ_LOGIT_THRESHOLD_BITS]");
  header.integer("YQ_IOU_NUMERATOR", nms.iou_numerator, "suppress when I * den > num * U");
  header.integer("YQ_IOU_DENOMINATOR", nms.iou_denominator);
  header.integer("YQ_MAX_DETECTIONS", nms.max_detections, "records of the detection list");
  const auto [head_lut_base, head_lut_depth] = head_tables(model, map);
  header.integer("YQ_HEAD_LUT_BASE", head_lut_base, "first entry of the head's sigmoid and exp tables in lut_mem");
  header.integer("YQ_HEAD_LUT_DEPTH", head_lut_depth, "entries from there to lut_mem's end: the head's tables only");
}

void header_memories(VerilogHeader& header, const std::vector<Memory>& memories) {
  header.section("Memories: word width, depth in words, address bits, $readmemh image");
  for (const Memory& memory : memories) {
    const std::string prefix = "YQ_" + verilog_identifier(memory.name);
    header.integer(prefix + "_WIDTH", memory.width);
    header.integer(prefix + "_DEPTH", memory.depth);
    header.integer(prefix + "_ADDR_BITS", address_bits(memory.depth));
    if (!memory.file.empty()) header.string(prefix + "_FILE", memory.file, "relative to the emission folder");
  }
}

// Byte address of a node's output in the DRAM feature-map region.
std::int64_t fmap_address(const DramMap& dram, const NodePlacement& place) {
  return dram.region("fmap").base + place.fmap_dram_offset;
}

// Byte address and size of the input image: node 0's feature-map region.
struct ImageRegion {
  std::int64_t base = 0, bytes = 0;
};

ImageRegion image_region(const DramMap& dram, const MemoryMap& map) {
  const NodePlacement& input = map.nodes.at(0);
  const std::int64_t codes = input.shape.channels * input.shape.height * input.shape.width;
  return {fmap_address(dram, input), codes * input.fmap_slot_bytes};
}

// The narrowest and widest DRAM slot of any feature map, in bits.
std::pair<int, int> fmap_slot_bits(const MemoryMap& map) {
  const auto by_slot = [](const NodePlacement& a, const NodePlacement& b) { return a.fmap_slot_bytes < b.fmap_slot_bytes; };
  const auto [narrow, wide] = std::minmax_element(map.nodes.begin(), map.nodes.end(), by_slot);
  return {8 * narrow->fmap_slot_bytes, 8 * wide->fmap_slot_bytes};
}

void header_dram(VerilogHeader& header, const DramMap& dram, const MemoryMap& map) {
  const ImageRegion image = image_region(dram, map);
  header.section("DRAM: byte addresses, regions aligned to the AXI data width (docs/ARTIFACTS.md section 3.1)");
  header.integer("YQ_AXI_DATA_BITS", dram.axi_bits(), "AXI4 data width");
  header.integer("YQ_DRAM_ALIGN_BYTES", dram.alignment(), "every region's base and size are multiples");
  header.integer("YQ_DRAM_BYTES", dram.total_bytes(), "every region");
  header.integer("YQ_DRAM_FILE_BYTES", dram.file_bytes(), "dram.bin: the constant regions from address 0");
  header.integer("YQ_DRAM_DEPTH", dram.file_bytes() / dram.alignment(), "lines of dram.hex");
  header.string("YQ_DRAM_FILE", "dram.hex", "$readmemh, one YQ_AXI_DATA_BITS-bit beat per line");
  for (const DramRegion& region : dram.regions()) {
    const std::string prefix = "YQ_DRAM_" + verilog_identifier(region.name);
    header.integer(prefix + "_BASE", region.base);
    header.integer(prefix + "_BYTES", region.bytes);
    header.integer(prefix + "_SLOT_BITS", region.slot_bits, "bits one word occupies");
  }
  header.integer("YQ_DRAM_IMAGE_BASE", image.base, "the input image: node 0's feature-map words");
  header.integer("YQ_DRAM_IMAGE_BYTES", image.bytes);
  const auto [narrow, wide] = fmap_slot_bits(map);
  header.integer("YQ_FMAP_NARROW_SLOT_BITS", narrow, "a feature map's DRAM slot: the narrowest of any");
  header.integer("YQ_FMAP_WIDE_SLOT_BITS", wide, "the widest (a band instruction's slot_log2 names one)");
}

// Depths in words of one half of each of yq_top's double-buffered on-chip
// layer buffers (docs/RTL.md): the weight buffer's half holds
// --weight-buffer-bytes of DRAM weight slots (0: the largest convolution's
// weights), the bias and requant buffers' halves one layer's words, the
// table buffer's half one convolution's SiLU table (each of the ROWS table
// read lanes has its own copy). A layer whose words do not fit is an error
// naming it.
struct LayerBuffers {
  std::int64_t weight = 0, bias = 0, requant = 0, table = 0;
  bool interpolated_table = false;  // some SiLU table interpolates between knots (its lanes read two entries)
};

LayerBuffers layer_buffers(const QuantModel& model, const MemoryMap& map, const WordWidths& widths,
                           std::int64_t weight_buffer_bytes) {
  const std::int64_t slot_bytes = dram_slot_bits(widths.weight) / 8;
  LayerBuffers buffers;
  for (const NodePlacement& place : map.nodes) {
    buffers.weight = std::max(buffers.weight, place.weight_count);
    buffers.bias = std::max(buffers.bias, place.bias_count);
    buffers.requant = std::max(buffers.requant, place.requant_count);
  }
  for (const QuantNode& node : model.nodes) {
    if (node.conv.silu_lut < 0) continue;
    const Lut& table = model.luts[node.conv.silu_lut];
    buffers.table = std::max(buffers.table, static_cast<std::int64_t>(table.values.size()));
    buffers.interpolated_table = buffers.interpolated_table || table.index_bits > table.knot_bits;
  }
  if (weight_buffer_bytes == 0) return buffers;
  const std::int64_t capacity = weight_buffer_bytes / slot_bytes / kWeightGroup * kWeightGroup;  // whole rows
  for (size_t i = 0; i < map.nodes.size(); ++i) {
    const std::int64_t words = map.nodes[i].weight_count;
    if (words > capacity) {
      throw Error("layer " + model.graph.nodes[i].name + ": its " + std::to_string(words) + " weights (" +
                  std::to_string(words * slot_bytes) + " bytes) do not fit the weight buffer of --weight-buffer-bytes " +
                  std::to_string(weight_buffer_bytes) + " (" + std::to_string(capacity) + " weights)");
    }
  }
  buffers.weight = capacity;
  return buffers;
}

// The band program's buffers: input and output halves of --band-buffer-bytes
// of feature-map slots each, and the halves of the layer buffers.
BandBuffers band_buffers(const EmitOptions& options, const WordWidths& widths, const LayerBuffers& layer) {
  const std::int64_t slot_words = options.band_buffer_bytes / (dram_slot_bits(widths.fmap) / 8);
  const std::int64_t band_words = slot_words / kScratchBankRowWords * kScratchBankRowWords;
  return {band_words, band_words, layer.weight, layer.bias, layer.requant};
}

void header_buffers(VerilogHeader& header, const LayerBuffers& buffers, const BandProgram& bands) {
  header.section("yq_top's layer buffers: depth in words (docs/RTL.md)");
  header.integer("YQ_WEIGHT_BUFFER_DEPTH", buffers.weight, "--weight-buffer-bytes / weight slot bytes");
  header.integer("YQ_BIAS_BUFFER_DEPTH", buffers.bias, "the most biases of a layer");
  header.integer("YQ_REQUANT_BUFFER_DEPTH", buffers.requant, "the most requant words of a layer");
  header.integer("YQ_TABLE_BUFFER_DEPTH", std::max<std::int64_t>(buffers.table, 1), "the largest SiLU table of a convolution");
  header.integer("YQ_TABLE_INTERPOLATED", buffers.interpolated_table ? 1 : 0,
                 "1: a SiLU table interpolates, its lanes read two entries a cycle");
  header.section("The band program's scratch memory: feature-map words (docs/ARTIFACTS.md section 14)");
  header.integer("YQ_BAND_INPUT_WORDS", bands.buffers.input_words, "one input half, at words h * this");
  header.integer("YQ_BAND_OUTPUT_WORDS", bands.buffers.output_words, "one output half, at 2 * input + h * this");
  header.integer("YQ_SCRATCH_WORDS", bands.buffers.scratch_words(), "both halves of both buffers");
  header.integer("YQ_BAND_INSTRUCTIONS", static_cast<std::int64_t>(bands.instructions.size()));
  header.integer("YQ_HEAD_PITCH_MODULUS", bands.head_pitch_modulus,
                 "a head band's channel pitch is 1 modulo this (yq_scratch rotates the head lanes' rows when 2 * ROWS divides it)");
}

// The bits of the largest feature-map height or width: the conv engine's
// coordinate registers and adders are sized by it.
void header_dimensions(VerilogHeader& header, const MemoryMap& map) {
  int largest = 1;
  for (const NodePlacement& node : map.nodes) largest = std::max({largest, node.shape.height, node.shape.width});
  header.integer("YQ_MAX_DIM_BITS", std::bit_width(static_cast<unsigned>(largest)),
                 "bits of the largest feature-map height or width (the conv engine takes no larger)");
}

std::string params_header(const QuantModel& model, const EmitOptions& options, const WordWidths& widths,
                          const std::vector<Memory>& memories, const DramMap& dram, const MemoryMap& map,
                          const LayerBuffers& buffers, const BandProgram& bands) {
  VerilogHeader header(
      "yq_params.vh: generated by yq-hw; do not edit. Format: docs/ARTIFACTS.md.\n"
      "Parameters of one quantized YOLOv8 model for RTL. Include inside a module body,\n"
      "after yq_format.vh (the field positions and codes of the format):\n"
      "`include \"yq_format.vh\" then `include \"yq_params.vh\"; both declare localparams only.");
  header_versions(header, model, options, widths);
  header_dimensions(header, map);
  header_head(header, model, map, options.nms);
  header_memories(header, memories);
  header_dram(header, dram, map);
  header_buffers(header, buffers, bands);
  header.section("Requant word fields (requant_mem.hex)");
  header.word_layout("YQ_REQUANT", requant_layout(widths.multiplier));
  return header.text();
}

nlohmann::json format_json(const CodeFormat& format) {
  return {{"bits", format.bits}, {"scale", format.scale}, {"zero", format.zero}};
}

nlohmann::json layers_json(const QuantModel& model, const MemoryMap& map) {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < model.graph.nodes.size(); ++i) {
    const Node& node = model.graph.nodes[i];
    const NodePlacement& place = map.nodes[i];
    nlohmann::json layer = {{"node", i},
                            {"layer", node.name},
                            {"op", op_kind_name(node.op)},
                            {"shape", {place.shape.channels / place.planes, place.shape.height, place.shape.width}},
                            {"planes", place.planes},
                            {"out", format_json(model.nodes[i].out)},
                            {"fmap_base", place.fmap_base},
                            {"view", place.view},
                            {"weight_base", place.weight_base},
                            {"bias_base", place.bias_base},
                            {"requant_base", place.requant_base}};
    if (node.op == OpKind::Conv) {
      const QuantConv& conv = model.nodes[i].conv;
      layer["pre"] = format_json(conv.pre);
      layer["weight_bits"] = conv.weight_bits;
      layer["weight_scales"] = conv.weight_scales;
      layer["acc_bits"] = conv.acc_bits;
      layer["files"]["weights"] = layer_file(node, "weights");
      layer["files"]["bias"] = layer_file(node, "bias");
    }
    if (place.requant_count > 0) layer["files"]["requant"] = layer_file(node, "requant");
    layers.push_back(layer);
  }
  return layers;
}

nlohmann::json luts_json(const QuantModel& model, const std::vector<PackedWord>& directory) {
  nlohmann::json luts = nlohmann::json::array();
  for (size_t l = 0; l < model.luts.size(); ++l) {
    const PackedWord& entry = directory[l];
    luts.push_back({{"id", l},
                    {"name", model.luts[l].name},
                    {"kind", model.luts[l].kind},
                    {"index_bits", entry["index_bits"]},
                    {"knot_bits", entry["knot_bits"]},
                    {"value_bits", entry["value_bits"]},
                    {"base", entry["base"]},
                    {"depth", entry["depth"]},
                    {"file", lut_file(model.luts[l])}});
  }
  return luts;
}

nlohmann::json feature_map_json(const MemoryMap& map) {
  const auto views = std::count_if(map.nodes.begin(), map.nodes.end(), [](const NodePlacement& p) { return p.view; });
  return {{"depth", map.fmap_depth}, {"sum_of_outputs", map.fmap_total_words}, {"views", views}};
}

nlohmann::json dram_region_json(const DramRegion& region, const std::vector<Memory>& memories) {
  std::string file;
  for (const Memory& memory : memories) {
    if (memory.name == region.name) file = memory.file;
  }
  return {{"name", region.name},
          {"base", region.base},
          {"bytes", region.bytes},
          {"word_bits", region.word_bits},
          {"slot_bits", region.slot_bits},
          {"words", region.words},
          {"in_file", region.in_file},
          {"file", file}};
}

nlohmann::json memory_map_json(const QuantModel& model, const MemoryMap& map, const DramMap& dram,
                               const std::vector<Memory>& memories) {
  nlohmann::json regions = nlohmann::json::array();
  for (const DramRegion& region : dram.regions()) regions.push_back(dram_region_json(region, memories));
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < model.graph.nodes.size(); ++i) {
    const NodePlacement& place = map.nodes[i];
    layers.push_back({{"node", i},
                      {"layer", model.graph.nodes[i].name},
                      {"fmap", fmap_address(dram, place)},
                      {"fmap_slot_bits", 8 * place.fmap_slot_bytes},
                      {"view", place.view},
                      {"weights", dram.address("weight", place.weight_base)},
                      {"bias", dram.address("bias", place.bias_base)},
                      {"requant", dram.address("requant", place.requant_base)}});
  }
  nlohmann::json luts = nlohmann::json::array();
  for (size_t l = 0; l < model.luts.size(); ++l) {
    luts.push_back({{"id", l}, {"name", model.luts[l].name}, {"address", dram.address("lut", map.lut_bases[l])}});
  }
  const ImageRegion image = image_region(dram, map);
  return {{"format_version", kArtifactFormatVersion},
          {"axi_data_bits", dram.axi_bits()},
          {"alignment_bytes", dram.alignment()},
          {"file_bytes", dram.file_bytes()},
          {"total_bytes", dram.total_bytes()},
          {"files", {{"binary", "dram.bin"}, {"readmemh", "dram.hex"}}},
          {"regions", regions},
          {"image", {{"base", image.base}, {"bytes", image.bytes}}},
          {"layers", layers},
          {"luts", luts}};
}

nlohmann::json manifest_json(const QuantModel& model, const EmitOptions& options, const WordWidths& widths,
                             const MemoryMap& map, const std::vector<PackedWord>& directory,
                             const std::vector<Memory>& memories) {
  nlohmann::json memory_json = nlohmann::json::object();
  for (const Memory& memory : memories) {
    memory_json[memory.name] = {{"file", memory.file}, {"width", memory.width}, {"depth", memory.depth}};
  }
  return {{"format_version", kArtifactFormatVersion},
          {"compiler_version", YQ_VERSION},
          {"arithmetic_version", arith::kArithmeticVersion},
          {"model_sha256", options.model_sha256},
          {"image_size", input_size_json(options.image_size)},
          {"bits",
           {{"weight", model.settings.weight_bits},
            {"activation", model.settings.activation_bits},
            {"weight_word", widths.weight},
            {"activation_word", widths.fmap},
            {"accumulator", widths.bias},
            {"multiplier", widths.multiplier},
            {"shift", kShiftBits},
            {"lut_word", widths.lut}}},
          {"settings", quant_settings_to_json(model.settings)},
          {"memories", memory_json},
          {"feature_maps", feature_map_json(map)},
          {"layers", layers_json(model, map)},
          {"luts", luts_json(model, directory)}};
}

// Every memory in DRAM, in the order of `memories` (the constant ones first),
// then the detection list: a count in slot 0, then up to max_detections records.
// The constant memories, then the feature maps (bytes: each tensor in slots
// of its own width, compiler/emit/fmap_plan.hpp) and the detection list.
DramMap plan_dram(const std::vector<Memory>& memories, const MemoryMap& map, const EmitOptions& options) {
  std::vector<DramRegionSpec> specs;
  for (const Memory& memory : memories) {
    if (!memory.file.empty()) specs.push_back({memory.name, memory.width, memory.depth, true});
  }
  specs.push_back({"fmap", 8, map.fmap_dram_bytes, false});
  specs.push_back({"detections", detection_layout().width(), options.nms.max_detections + 1, false});
  return DramMap(options.axi_bits, specs);
}

BandProgram plan_band_program(const QuantModel& model, const MemoryMap& map, const std::vector<PackedWord>& descriptors,
                              const EmitOptions& options) {
  const BandBuffers buffers = emitted_band_buffers(model, map, options);
  try {
    return band_program(model, map, descriptors, buffers);
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + " (--band-buffer-bytes " + std::to_string(options.band_buffer_bytes) +
                ", in whole rows of " + std::to_string(kScratchBankRowWords) + " words)");
  }
}

nlohmann::json band_program_json(const BandProgram& bands, const MemoryMap& map) {
  std::int64_t read_bytes = 0, written_bytes = 0, runs = 0, copies = 0, upsample_loads = 0;
  for (const BandInstruction& ins : bands.instructions) {
    if (ins.op == BandOp::Load || ins.op == BandOp::UpsampleLoad) read_bytes += dram_bytes(ins, map);
    if (ins.op == BandOp::UpsampleLoad) ++upsample_loads;
    if (ins.op == BandOp::Store) written_bytes += dram_bytes(ins, map);
    if (ins.op == BandOp::Run) ++runs;
    if (ins.op == BandOp::Copy) ++copies;
  }
  nlohmann::json layers = nlohmann::json::array();
  for (const NodeBands& node : bands.nodes) {
    layers.push_back({{"node", node.node},
                      {"band_rows", node.band_rows},
                      {"bands", node.bands()},
                      {"band_heights", node.band_heights},
                      {"stored", node.stored}});
  }
  return {{"instructions", bands.instructions.size()},
          {"runs", runs},
          {"copies", copies},
          {"upsample_loads", upsample_loads},
          {"input_half_words", bands.buffers.input_words},
          {"output_half_words", bands.buffers.output_words},
          {"feature_map_bytes_read", read_bytes},
          {"feature_map_bytes_written", written_bytes},
          {"feature_map_bytes_forwarded", bands.forwarded_bytes},
          {"head_band_rows", bands.head_band_rows},
          {"head_pitch_modulus", bands.head_pitch_modulus},
          {"layers", layers}};
}

}  // namespace

BandBuffers emitted_band_buffers(const QuantModel& model, const MemoryMap& map, const EmitOptions& options) {
  const WordWidths widths = word_widths(model);
  return band_buffers(options, widths, layer_buffers(model, map, widths, options.weight_buffer_bytes));
}

BandProgram emitted_band_program(const QuantModel& model, const EmitOptions& options) {
  const MemoryMap map = plan_memories(model, options.image_size);
  return plan_band_program(model, map, layer_program(model, map), options);
}

nlohmann::json emit_hardware(const QuantModel& model, const EmitOptions& options, const fs::path& folder) {
  const MemoryMap map = plan_memories(model, options.image_size);
  const WordWidths widths = word_widths(model);
  const LayerBuffers buffers = layer_buffers(model, map, widths, options.weight_buffer_bytes);
  EmissionWriter writer(folder);
  const auto nodes = static_cast<std::int64_t>(model.graph.nodes.size());
  const auto tables = static_cast<std::int64_t>(model.luts.size());
  const std::vector<PackedWord> descriptors = layer_program(model, map);
  const BandProgram bands = plan_band_program(model, map, descriptors, options);
  Memory program{"program", "program.hex", program_layout().width(), nodes, hex_lines(descriptors)};
  const std::vector<PackedWord> directory = lut_directory(model, map);
  Memory lut_dir{"lut_dir", "lut_dir.hex", lut_directory_layout().width(), tables, hex_lines(directory)};
  Memory weights{"weight", "weight_mem.hex", widths.weight, map.weight_depth, {}};
  Memory biases{"bias", "bias_mem.hex", widths.bias, map.bias_depth, {}};
  Memory requants{"requant", "requant_mem.hex", widths.multiplier + kShiftBits, map.requant_depth, {}};
  Memory luts{"lut", "lut_mem.hex", widths.lut, map.lut_depth, {}};
  Memory band_descriptors{"band_descriptors", "band_descriptors.hex", program_layout().width(),
                          static_cast<std::int64_t>(bands.descriptors.size()), hex_lines(bands.descriptors)};
  Memory band_instructions{"band_program", "band_program.hex", band_instruction_layout().width(),
                           static_cast<std::int64_t>(bands.instructions.size()), {}};
  write_layer_memories(writer, model, map, widths, weights, biases, requants);
  write_lut_memories(writer, model, luts);
  std::vector<Memory> memories = {std::move(program),          std::move(lut_dir), std::move(weights),
                                  std::move(biases),           std::move(requants), std::move(luts),
                                  std::move(band_instructions), std::move(band_descriptors)};
  memories.push_back({"fmap", "", widths.fmap, map.fmap_depth, {}});
  const DramMap dram = plan_dram(memories, map, options);
  for (Memory& memory : memories) {
    if (memory.name == "band_program") memory.contents = hex_lines(pack_band_program(bands, map, dram));
  }
  std::string image(static_cast<size_t>(dram.file_bytes()), '\0');
  for (Memory& memory : memories) {
    if (memory.file.empty()) continue;
    writer.write(memory.file, memory.contents);
    place_words(image, dram.region(memory.name), memory.contents);
    memory.contents.clear();
  }
  writer.write("dram.bin", image);
  writer.write("dram.hex", dram_beats_hex(image, dram.axi_bits()));
  writer.write("memory_map.json", memory_map_json(model, map, dram, memories).dump(2) + "\n");
  writer.write("yq_format.vh", format_header());
  writer.write("yq_params.vh",
               params_header(model, options, widths, memories, dram, map, buffers, bands));
  nlohmann::json manifest = manifest_json(model, options, widths, map, directory, memories);
  manifest["band_program"] = band_program_json(bands, map);
  manifest["files"] = writer.files();
  write_json_file(folder / "manifest.json", manifest);
  return manifest;
}

void copy_emission(const nlohmann::json& manifest, const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const nlohmann::json& entry : manifest.at("files")) {
    const std::string file = entry.at("file");
    fs::create_directories((to / file).parent_path());
    write_file_atomic(to / file, read_file_bytes(from / file));
  }
  write_file_atomic(to / "manifest.json", read_file_bytes(from / "manifest.json"));
}

nlohmann::json emission_summary(const nlohmann::json& manifest) {
  std::int64_t bytes = 0;
  for (const nlohmann::json& entry : manifest.at("files")) bytes += entry.at("bytes").get<std::int64_t>();
  return {{"files", manifest.at("files").size()},
          {"bytes", bytes},
          {"memories", manifest.at("memories")},
          {"feature_maps", manifest.at("feature_maps")}};
}

}  // namespace yq
