// Quantization settings, typed and defined once: every mode is an enum with
// one table of names, read the same way from the command line, the TOML
// config file and the JSON records of a run, and written back the same way.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace yq {

// Range selection of activations (compiler/quant/range_selection.hpp).
enum class RangeMethod { Auto, Max, Percentile, Mse, Entropy };
// Requantization: a fixed-point multiplier and a shift, or a shift only.
enum class ScaleForm { Multiplier, PowerOfTwo };
// Shared: a concat and the tensors it joins take one scale (the concat is a view).
enum class ConcatScales { Shared, Own };
// The detect head: integer (the hardware path) or decoded in float (a diagnostic).
enum class HeadMode { Int, Float };
// Suppression of stage_8's headline: q_NMS (integers) or float NMS.
enum class NmsMode { Int, Float };
// Weight codes: each rounded to nearest, or GPTQ (compiler/quant/gptq.hpp):
// rounded column by column with the error spread over the columns not yet
// rounded, weighted by the layer's input statistics.
enum class WeightRounding { Auto, Nearest, Gptq };
// What GPTQ and bias correction take as a convolution's input: the float
// model's (stage_4's statistics), or the integer model's as it is built in
// network order, the convolutions before it already quantized
// (compiler/quant/quantized_pass.hpp).
enum class Reconstruction { FloatInputs, Sequential, Asymmetric };
// A convolution's weight scale per output channel: its largest |weight| on
// the top code, or the clip (a fraction of it) whose nearest-rounded
// weights have the least output error, each weight's squared error weighted
// by its input's mean square over the calibration images.
enum class WeightClip { Auto, Max, Mse };

// The names of an enum's values and the option that sets it.
template <typename E>
struct EnumNames;

#define YQ_ENUM_NAMES(Enum, option_name, ...)                                                 \
  template <>                                                                                 \
  struct EnumNames<Enum> {                                                                    \
    static constexpr const char* option = option_name;                                        \
    static constexpr auto values = std::to_array<std::pair<Enum, const char*>>({__VA_ARGS__}); \
  };

YQ_ENUM_NAMES(RangeMethod, "--calib-method", {RangeMethod::Auto, "auto"}, {RangeMethod::Max, "max"},
              {RangeMethod::Percentile, "percentile"}, {RangeMethod::Mse, "mse"}, {RangeMethod::Entropy, "entropy"})
YQ_ENUM_NAMES(ScaleForm, "--scales", {ScaleForm::Multiplier, "multiplier"}, {ScaleForm::PowerOfTwo, "pow2"})
YQ_ENUM_NAMES(ConcatScales, "--concat-scales", {ConcatScales::Shared, "shared"}, {ConcatScales::Own, "own"})
YQ_ENUM_NAMES(HeadMode, "--head", {HeadMode::Int, "int"}, {HeadMode::Float, "float"})
YQ_ENUM_NAMES(NmsMode, "--nms", {NmsMode::Int, "int"}, {NmsMode::Float, "float"})
YQ_ENUM_NAMES(WeightRounding, "--rounding", {WeightRounding::Auto, "auto"}, {WeightRounding::Nearest, "nearest"},
              {WeightRounding::Gptq, "gptq"})
YQ_ENUM_NAMES(Reconstruction, "--reconstruction", {Reconstruction::FloatInputs, "float-inputs"},
              {Reconstruction::Sequential, "sequential"}, {Reconstruction::Asymmetric, "asymmetric"})
YQ_ENUM_NAMES(WeightClip, "--weight-clip", {WeightClip::Auto, "auto"}, {WeightClip::Max, "max"}, {WeightClip::Mse, "mse"})

#undef YQ_ENUM_NAMES

// "a, b or c": the names an option accepts.
template <typename E>
std::string enum_choices() {
  std::string text;
  const auto& values = EnumNames<E>::values;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += i + 1 == values.size() ? " or " : ", ";
    text += values[i].second;
  }
  return text;
}

template <typename E>
const char* enum_name(E value) {
  for (const auto& [v, name] : EnumNames<E>::values) {
    if (v == value) return name;
  }
  return "?";
}

[[noreturn]] void throw_bad_enum(const char* option, std::string_view text, const std::string& choices);

// Throws yq::Error "--head fp is not int or float".
template <typename E>
E parse_enum(std::string_view text) {
  for (const auto& [value, name] : EnumNames<E>::values) {
    if (text == name) return value;
  }
  throw_bad_enum(EnumNames<E>::option, text, enum_choices<E>());
}

// Mixed precision: layers whose name fully matches the regular expression
// get these bits (0 keeps the default).
struct LayerOverride {
  std::string pattern;
  int weight_bits = 0;
  int activation_bits = 0;
};

// A budget for the weight codes, met by stage_5's mixed precision
// (compiler/quant/sensitivity.hpp): an average number of bits per weight
// ("5", "4.5") or a total size of the codes ("2MB"; B, KB, MB, KiB, MiB).
struct WeightBudget {
  enum class Kind { None, AverageBits, Bytes };
  Kind kind = Kind::None;
  double value = 0;  // bits per weight, or bytes

  bool is_set() const { return kind != Kind::None; }
  // The budget in bits for `weights` weights.
  double bits_for(std::int64_t weights) const;
  std::string description() const;  // "5 bits per weight", "2000000 bytes"
};

// Throws yq::Error "--weight-budget 5 bits is not ..." for anything else.
WeightBudget parse_weight_budget(std::string_view text);

struct QuantSettings {
  int weight_bits = 8;
  int activation_bits = 8;
  // SiLU convolutions' pre-activation codes (the SiLU table's index) are at
  // least this wide; 0: as wide as the layer's activation codes. Internal to
  // the conv engine: it widens the table, not the feature maps.
  int pre_activation_bits = 0;
  RangeMethod range_method = RangeMethod::Auto;
  double percentile = 99.99;
  bool per_channel = true;
  ScaleForm scale_form = ScaleForm::Multiplier;
  ConcatScales concat_scales = ConcatScales::Shared;
  int multiplier_bits = 16;
  HeadMode head = HeadMode::Int;
  int acc_bits_limit = 48;  // refuse a layer whose worst-case accumulator needs more
  WeightRounding rounding = WeightRounding::Auto;  // auto: GPTQ for weights narrower than 8 bits
  bool bias_correction = false;  // fold each channel's mean output error over the calibration data into its bias
  Reconstruction reconstruction = Reconstruction::FloatInputs;  // the inputs GPTQ and bias correction read
  WeightClip weight_clip = WeightClip::Auto;  // auto: the clip search where GPTQ rounds weights below 8 bits
  std::vector<LayerOverride> overrides;
  WeightBudget weight_budget;   // set: stage_5 chooses each convolution's weight bits
  int sensitivity_images = 8;   // calibration images the sensitivity is measured on

  // Whether a convolution of `weight_bits`-bit weights is rounded by GPTQ:
  // --rounding gptq, or auto below 8 bits (docs/RESULTS.md: GPTQ takes
  // W6A8 from -3.8 to -0.9 points and W4A8 out of collapse, and is not shown
  // to help at 8 bits).
  bool gptq_rounds(int bits) const {
    return rounding == WeightRounding::Gptq || (rounding == WeightRounding::Auto && bits < 8);
  }
  // Whether a convolution of `weight_bits`-bit weights takes its scales from
  // the clip search: --weight-clip mse, or auto where GPTQ rounds weights
  // narrower than 8 bits (docs/RESULTS.md: W4A8 -6.2 -> -5.7 points, the
  // 5-bit mix -1.6 -> -1.1, not shown to help at 8 bits). Per-channel
  // multiplier scales only.
  bool clip_searches(int bits) const {
    if (!per_channel || scale_form != ScaleForm::Multiplier) return false;
    return weight_clip == WeightClip::Mse || (weight_clip == WeightClip::Auto && bits < 8 && gptq_rounds(bits));
  }
  // Some convolution may get weights narrower than 8 bits (--wbits, an
  // override, or a weight budget's choice).
  bool narrow_weights_possible() const;
  // Rounding, bias correction or the clip search read the convolutions' input statistics (stage_4).
  bool needs_layer_inputs() const {
    return rounding == WeightRounding::Gptq || (rounding == WeightRounding::Auto && narrow_weights_possible()) ||
           bias_correction || weight_clip == WeightClip::Mse;
  }
};

// Throws yq::Error naming the first setting outside its range.
void check_quant_settings(const QuantSettings& settings);

nlohmann::json quant_settings_to_json(const QuantSettings& settings);
QuantSettings quant_settings_from_json(const nlohmann::json& j);

}  // namespace yq
