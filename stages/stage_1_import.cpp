// stage_1: checkpoint import and rename. Reads the checkpoint (an Ultralytics
// .pt or a plain state dict; the built-in synthetic model without --model),
// infers the architecture from tensor shapes, binds every tensor to a graph
// node under the compiler's names, and writes the float32 weights
// (weights.pt), the model description (model.json) and the rename
// (name_map.json: checkpoint name -> compiler name, shape, dtype).
#include <cstdio>

#include "compiler/io/checkpoint.hpp"
#include "compiler/ir/synthetic_model.hpp"
#include "compiler/ir/yolov8_import.hpp"
#include "compiler/quant/activation_formats.hpp"
#include "compiler/util/files.hpp"
#include "stages/stage.hpp"

namespace yq {

namespace {

nlohmann::json name_map_json(const std::vector<RenamedTensor>& name_map) {
  nlohmann::json entries = nlohmann::json::array();
  for (const RenamedTensor& t : name_map) {
    entries.push_back({{"source", t.source},
                       {"target", t.target.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.target)},
                       {"shape", t.shape},
                       {"dtype", t.dtype}});
  }
  return entries;
}

}  // namespace

nlohmann::json run_stage_1_import(StageContext& context) {
  const auto& model_path = context.config.model;
  const char scale = context.config.synthetic_scale;
  const Checkpoint checkpoint = model_path ? read_checkpoint(*model_path) : synthetic_yolov8_checkpoint(scale);
  const std::string source = model_path ? model_path->string() : synthetic_model_source(scale);
  const ImportedModel imported = import_yolov8(checkpoint, source);
  const Model& model = imported.model;
  resolve_node_bits(model.graph, context.config.quant);  // per-layer overrides must name existing layers
  save_model(context.output_dir, model);
  write_json_file(context.output_dir / "name_map.json", name_map_json(imported.name_map));

  const Yolov8Arch& arch = model.info.arch;
  std::printf("         %s: YOLOv8%s, %d classes, %zu tensors bound, %lld parameters\n", checkpoint.kind.c_str(),
              arch.scale.c_str(), arch.num_classes, imported.name_map.size(), count_parameters(model));
  return {{"checkpoint_kind", checkpoint.kind},
          {"producer_version", checkpoint.producer_version},
          {"scale", arch.scale},
          {"num_classes", arch.num_classes},
          {"width_multiple", arch.width_multiple},
          {"depth_multiple", arch.depth_multiple},
          {"max_channels", arch.max_channels},
          {"checkpoint_tensors", checkpoint.tensors.size()},
          {"tensors_bound", imported.name_map.size()},
          {"weights_written", model.weights.size()},
          {"parameters", count_parameters(model)},
          {"graph_nodes", model.graph.nodes.size()},
          {"bn_eps", model.info.bn_eps}};
}

}  // namespace yq
