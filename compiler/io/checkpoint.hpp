// Reading PyTorch checkpoints without Python.
//
// Two kinds of file are accepted, both torch.save zip archives:
//  - an Ultralytics checkpoint: a pickled dict whose "model" (or "ema") is a
//    DetectionModel; its nn.Module tree is walked through _modules,
//    _parameters and _buffers, whatever the Python class paths are;
//  - a plain state dict: a pickled dict (or OrderedDict) of name -> tensor.
// Tensors keep the dtype they are stored in (fp16 in official checkpoints).
#pragma once
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace yq {

using NamedTensorList = std::vector<std::pair<std::string, at::Tensor>>;

struct Checkpoint {
  NamedTensorList tensors;               // state-dict names ("model.0.conv.weight"), file order
  std::vector<std::string> class_names;  // empty when the file does not say
  std::vector<double> strides;           // detect strides, empty when unknown
  std::optional<double> bn_eps;          // BatchNorm eps found in the module tree
  std::string kind;                      // "ultralytics-checkpoint" or "state-dict"
  std::string producer_version;          // e.g. "8.0.0.dev0", empty when unknown
};

// Reads a checkpoint; throws yq::Error with a one-line message on a missing,
// truncated, foreign or malformed file.
Checkpoint read_checkpoint(const std::filesystem::path& file);

// Reads a checkpoint held in memory; throws yq::Error (without a file name)
// like read_checkpoint.
Checkpoint parse_checkpoint(std::string bytes);

// Reads any torch.save zip whose pickle is a dict of name -> tensor (the form
// the stages persist their weights in). Throws yq::Error otherwise.
NamedTensorList read_tensor_archive(const std::filesystem::path& file);

// Writes name -> tensor as a torch.save-compatible zip (readable by
// torch.load and by read_tensor_archive). Byte-identical for equal inputs.
void write_tensor_archive(const std::filesystem::path& file, const NamedTensorList& tensors);

}  // namespace yq
