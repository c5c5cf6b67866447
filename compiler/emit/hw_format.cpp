// The hardware format (compiler/emit/hw_format.hpp): the field tables are
// built once, in order, and WordLayout assigns each field its position; the
// header lists the version, the codes and every field's position and width
// through the same VerilogHeader the emitter uses for yq_params.vh.
#include "compiler/emit/hw_format.hpp"

#include "compiler/detect/detection.hpp"
#include "compiler/emit/band_program.hpp"
#include "compiler/emit/verilog_header.hpp"
#include "compiler/quant/lut_builder.hpp"
#include "compiler/util/error.hpp"

namespace yq {

namespace {

std::vector<WordField> program_fields() {
  std::vector<WordField> fields;
  for (const char* name : {"op", "num_inputs", "kernel", "stride", "pad", "in_bits", "out_bits", "pre_bits",
                           "weight_bits", "acc_bits", "head", "head_level"}) {
    fields.push_back({name, 8});
  }
  for (const char* name : {"node", "head_stride", "act_lut", "head_lut"}) fields.push_back({name, 16});
  fields.push_back({"pad_code", 16, true});
  for (const char* name : {"channel_begin", "in_c", "in_h", "in_w", "out_c", "out_h", "out_w"}) {
    fields.push_back({name, 16});
  }
  for (int k = 0; k < kProgramMaxInputs; ++k) fields.push_back({"input" + std::to_string(k), 16});
  fields.push_back({"out_base", 32});
  for (int k = 0; k < kProgramMaxInputs; ++k) fields.push_back({"in_base" + std::to_string(k), 32});
  for (const char* name : {"weight_base", "bias_base", "requant_base"}) fields.push_back({name, 32});
  fields.push_back({"view", 8});
  fields.push_back({"pad_top", 8});
  return fields;
}

// The RTL reads the input slots as one vector: slot k must follow slot 0 at k field widths.
void check_slots_contiguous(const WordLayout& layout, const std::string& slot) {
  const WordField& first = layout.fields()[layout.index_of(slot + "0")];
  for (int k = 1; k < kProgramMaxInputs; ++k) {
    const WordField& field = layout.fields()[layout.index_of(slot + std::to_string(k))];
    if (field.width != first.width || field.lsb != first.lsb + k * first.width) {
      throw Error("descriptor slots " + slot + "0.." + slot + std::to_string(kProgramMaxInputs - 1) +
                  " are not contiguous");
    }
  }
}

void header_codes(VerilogHeader& header) {
  header.section("Descriptor codes");
  for (const auto& [name, op] : program_op_codes()) header.integer("YQ_OP_" + name, static_cast<int>(op));
  header.integer("YQ_HEAD_NONE", static_cast<int>(HeadOutput::None));
  header.integer("YQ_HEAD_BOX", static_cast<int>(HeadOutput::Box), "DFL logits of a detect level");
  header.integer("YQ_HEAD_CLASS", static_cast<int>(HeadOutput::Class), "class logits of a detect level");
  for (LutKind kind : {LutKind::Silu, LutKind::Sigmoid, LutKind::Exp}) {
    header.integer("YQ_LUT_KIND_" + verilog_identifier(lut_kind_name(kind)), static_cast<int>(kind));
  }
  for (BandOp op : {BandOp::Load, BandOp::Store, BandOp::Constants, BandOp::Run, BandOp::Head, BandOp::End, BandOp::Copy,
                    BandOp::UpsampleLoad}) {
    header.integer("YQ_BAND_OP_" + verilog_identifier(band_op_name(op)), static_cast<int>(op));
  }
  header.integer("YQ_BAND_INPUT_HALF0", kInputHalf0, "reads / writes bits: the halves of the on-chip buffers");
  header.integer("YQ_BAND_INPUT_HALF1", kInputHalf1);
  header.integer("YQ_BAND_OUTPUT_HALF0", kOutputHalf0);
  header.integer("YQ_BAND_OUTPUT_HALF1", kOutputHalf1);
  header.integer("YQ_BAND_CONSTANT_HALF0", kConstantHalf0);
  header.integer("YQ_BAND_CONSTANT_HALF1", kConstantHalf1);
  header.integer("YQ_MAX_INPUTS", kProgramMaxInputs, "input slots per descriptor");
  header.integer("YQ_NONE_16", all_ones(16), "all ones: no value in a 16-bit field");
  header.integer("YQ_NONE_32", -1, "all ones (32'hffffffff): no value in a 32-bit field");
  header.integer("YQ_SHIFT_BITS", kShiftBits, "requant shift field, unsigned 0..62");
  header.integer("YQ_WEIGHT_GROUP", kWeightGroup, "weights per weight-memory row: one tap of as many output channels");
  header.section("Detect head number formats (docs/ARITHMETIC.md sections 6-7)");
  header.integer("YQ_HEAD_VALUE_BITS", kHeadValueBits, "sigmoid and exp table entries, unsigned");
  header.integer("YQ_SCORE_FRACTION_BITS", kScoreFractionBits, "sigmoid scores in units of 2^-16");
  header.integer("YQ_EXP_ONE_BITS", kExpOneBits, "EXP[0] = 2^15");
  header.integer("YQ_BOX_FRACTION_BITS", kBoxFractionBits, "boxes in 1/16 pixel");
}

}  // namespace

const std::vector<std::pair<std::string, ProgramOp>>& program_op_codes() {
  static const std::vector<std::pair<std::string, ProgramOp>> codes = {
      {"INPUT", ProgramOp::Input}, {"CONV", ProgramOp::Conv},       {"SLICE", ProgramOp::Slice},
      {"ADD", ProgramOp::Add},     {"CONCAT", ProgramOp::Concat},   {"MAXPOOL", ProgramOp::MaxPool},
      {"UPSAMPLE", ProgramOp::Upsample}};
  return codes;
}

const char* lut_kind_name(LutKind kind) {
  switch (kind) {
    case LutKind::Silu: return "silu";
    case LutKind::Sigmoid: return "sigmoid";
    case LutKind::Exp: return "exp";
  }
  throw Error("unknown table kind");
}

LutKind lut_kind(const std::string& name) {
  for (LutKind kind : {LutKind::Silu, LutKind::Sigmoid, LutKind::Exp}) {
    if (name == lut_kind_name(kind)) return kind;
  }
  throw Error("unknown table kind '" + name + "'");
}

const WordLayout& program_layout() {
  static const WordLayout layout("program", program_fields());
  return layout;
}

const WordLayout& lut_directory_layout() {
  static const WordLayout layout("lut_dir", {{"base", 32}, {"depth", 32}, {"kind", 8}, {"index_bits", 8},
                                             {"knot_bits", 8}, {"value_bits", 8}});
  return layout;
}

WordLayout requant_layout(int multiplier_bits) {
  return WordLayout("requant", {{"multiplier", multiplier_bits}, {"shift", kShiftBits}});
}

const WordLayout& detection_layout() {
  static const WordLayout layout("detection", {{"x1", 32, true},
                                               {"y1", 32, true},
                                               {"x2", 32, true},
                                               {"y2", 32, true},
                                               {"score", 32},
                                               {"class_id", 16},
                                               {"anchor", 16}});
  return layout;
}

const WordLayout& band_instruction_layout() {
  static const WordLayout layout("band", {{"op", 8},
                                          {"reads", 8},
                                          {"writes", 8},
                                          {"barrier", 8},
                                          {"half", 8},
                                          {"level", 8},
                                          {"slot_log2", 8},
                                          {"node", 16},
                                          {"channels", 16},
                                          {"first_row", 16},
                                          {"rows", 16},
                                          {"words", 32},
                                          {"dram_address", 32},
                                          {"dram_stride", 32},
                                          {"scratch_word", 32},
                                          {"scratch_stride", 32},
                                          {"class_word", 32},
                                          {"row_words", 16}});
  return layout;
}

const WordLayout& detection_list_count_layout() {
  static const WordLayout layout("detection_list_count", {{"count", 32}});
  return layout;
}

std::string format_header() {
  check_slots_contiguous(program_layout(), "input");
  check_slots_contiguous(program_layout(), "in_base");
  VerilogHeader header(
      "yq_format.vh: generated by yq-hw (compiler/emit/hw_format.cpp); do not edit.\n"
      "The hardware format of docs/ARTIFACTS.md: descriptor and LUT directory fields,\n"
      "op codes, head outputs, table kinds. The same for every model (yq_params.vh holds\n"
      "one model's numbers). Include inside a module body (`include \"yq_format.vh\");\n"
      "it declares localparams only. Regenerate: yq-hw format-header rtl/yq_format.vh");
  header.section("Version");
  header.integer("YQ_FORMAT_VERSION", kArtifactFormatVersion, "docs/ARTIFACTS.md format");
  header_codes(header);
  header.section("Layer program descriptor fields (program.hex), bit 0 = least significant");
  header.integer("YQ_PROG_WORD_BITS", program_layout().width(), "one descriptor");
  header.word_layout("YQ_PROG", program_layout());
  header.section("LUT directory entry fields (lut_dir.hex)");
  header.integer("YQ_LUTDIR_WORD_BITS", lut_directory_layout().width(), "one entry");
  header.word_layout("YQ_LUTDIR", lut_directory_layout());
  header.section("Band program instruction fields (band_program.hex, docs/ARTIFACTS.md section 14)");
  header.integer("YQ_BAND_WORD_BITS", band_instruction_layout().width(), "one instruction");
  header.word_layout("YQ_BAND", band_instruction_layout());
  header.section("Detection record fields (DRAM detection list; slot 0 holds the count)");
  header.integer("YQ_DET_WORD_BITS", detection_layout().width(), "one record");
  header.word_layout("YQ_DET", detection_layout());
  header.section("Detection list slot 0 (DRAM detection list: the count of records in slots 1 .. count)");
  header.word_layout("YQ_DET_LIST", detection_list_count_layout());
  return header.text();
}

}  // namespace yq
