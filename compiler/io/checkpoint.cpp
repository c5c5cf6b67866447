// Checkpoint reading and tensor-archive writing (see checkpoint.hpp).
//
// Reading: check the file exists and is not the legacy (non-zip) torch
// format, open the zip with PyTorchStreamReader, unpickle data.pkl with our
// own unpickler (compiler/io/pickle.hpp), then interpret the root: a dict
// whose "model" (or "ema") is a module object, a bare module object, or a
// dict of name -> tensor. A module tree is walked depth first like
// nn.Module.state_dict(): a module's parameters, then its persistent buffers,
// then its submodules, names joined by dots. Every failure, whether ours,
// c10's or the standard library's, becomes one yq::Error line "<file>: ...".
//
// Writing: torch::jit::pickle_save (what torch::pickle_save forwards to; its
// header costs less to compile) of a c10 string -> tensor dict produces the
// torch.save zip bytes; they are written to "<file>.tmp" and renamed.
#include "compiler/io/checkpoint.hpp"

#include <ATen/core/Dict.h>
#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>

#include "compiler/io/pickle.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"

namespace yq {
namespace {

namespace fs = std::filesystem;
using pickle::Dict;
using pickle::Object;
using pickle::Value;
using pickle::ValuePtr;

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Runs `body`; any exception becomes a yq::Error "<file>: <first line>".
template <typename Body>
auto with_file_context(const fs::path& file, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const c10::Error& error) {
    throw Error(file.string() + ": " + first_line(error.what_without_backtrace()));
  } catch (const std::exception& error) {
    throw Error(file.string() + ": " + first_line(error.what()));
  }
}

// torch.save before 1.6 wrote a bare pickle stream that starts with a pickled
// magic number (protocol 2, LONG1 0x1950a86a20f9469cfc6c).
constexpr std::string_view kLegacyTorchMagic = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";

void reject_missing_or_legacy_file(const fs::path& file) {
  if (!fs::exists(file)) throw Error("file not found");
  if (fs::is_directory(file)) throw Error("is a folder, not a checkpoint file");
  std::ifstream stream(file, std::ios::binary);
  if (!stream) throw Error(std::string("cannot open: ") + std::strerror(errno));
  std::string start(kLegacyTorchMagic.size(), '\0');
  stream.read(start.data(), static_cast<std::streamsize>(start.size()));
  if (stream.bad()) throw Error("cannot read the file");
  if (start == kLegacyTorchMagic) {
    throw Error("legacy (non-zip) torch.save format is not supported; re-save it with torch >= 1.6");
  }
}

std::unique_ptr<caffe2::serialize::PyTorchStreamReader> open_archive(const fs::path& file) {
  try {
    return std::make_unique<caffe2::serialize::PyTorchStreamReader>(file.string());
  } catch (const c10::Error& error) {
    throw Error("not a PyTorch zip checkpoint (truncated or corrupt): " + first_line(error.what_without_backtrace()));
  }
}

// The unpickled data.pkl of a torch.save zip, with every storage loaded.
ValuePtr read_pickle_root(const fs::path& file) {
  reject_missing_or_legacy_file(file);
  const auto archive = open_archive(file);
  if (!archive->hasRecord("data.pkl")) throw Error("zip has no data.pkl record");
  const auto [bytes, size] = archive->getRecord("data.pkl");
  return pickle::unpickle(std::string_view(static_cast<const char*>(bytes.get()), size), *archive);
}

// --- plain state dicts ---

NamedTensorList named_tensors(const Dict& dict) {
  NamedTensorList tensors;
  for (const auto& [key, value] : dict.items) {
    const auto* name = key->get_if<std::string>();
    if (!name) throw Error("a key is " + pickle::describe(*key) + ", not a tensor name");
    const auto* tensor = value->get_if<at::Tensor>();
    if (!tensor) throw Error("entry '" + *name + "' is " + pickle::describe(*value) + ", not a tensor");
    tensors.emplace_back(*name, *tensor);
  }
  return tensors;
}

// DataParallel state dicts prefix every name with "module.".
void strip_common_module_prefix(NamedTensorList& tensors) {
  constexpr std::string_view prefix = "module.";
  const bool all_prefixed =
      std::all_of(tensors.begin(), tensors.end(), [&](const auto& entry) { return entry.first.starts_with(prefix); });
  if (tensors.empty() || !all_prefixed) return;
  for (auto& entry : tensors) entry.first.erase(0, prefix.size());
}

// --- nn.Module trees ---

const Dict& attributes(const Object& module) {
  const auto* state = module.state ? module.state->get_if<Dict>() : nullptr;
  if (!state) throw Error("module of class " + module.type.name + " has no attribute dict");
  return *state;
}

const Dict* dict_attribute(const Dict& attributes, std::string_view name) {
  const Value* value = pickle::find(attributes, name);
  if (!value || value->is<pickle::None>()) return nullptr;
  const auto* dict = value->get_if<Dict>();
  if (!dict) throw Error("module attribute " + std::string(name) + " is " + pickle::describe(*value));
  return dict;
}

std::set<std::string> non_persistent_buffer_names(const Dict& attributes) {
  std::set<std::string> names;
  const Value* value = pickle::find(attributes, "_non_persistent_buffers_set");
  if (const auto* list = value ? value->get_if<pickle::List>() : nullptr) {
    for (const auto& item : list->items) {
      if (const auto* name = item->get_if<std::string>()) names.insert(*name);
    }
  }
  return names;
}

// Appends the tensors of a _parameters or _buffers dict, skipping None and `excluded`.
void append_module_tensors(const Dict* tensors, const std::string& prefix, const std::set<std::string>& excluded,
                           NamedTensorList& out) {
  if (!tensors) return;
  for (const auto& [key, value] : tensors->items) {
    const auto* name = key->get_if<std::string>();
    if (!name) throw Error("module under '" + prefix + "' has a non-string tensor name");
    if (value->is<pickle::None>() || excluded.contains(*name)) continue;
    const auto* tensor = value->get_if<at::Tensor>();
    if (!tensor) throw Error(prefix + *name + " is " + pickle::describe(*value) + ", not a tensor");
    out.emplace_back(prefix + *name, *tensor);
  }
}

// A BatchNorm-like module: a running_var buffer and a float eps attribute.
std::optional<double> batch_norm_eps(const Dict& attributes) {
  const Dict* buffers = dict_attribute(attributes, "_buffers");
  const Value* eps = pickle::find(attributes, "eps");
  if (!buffers || !pickle::find(*buffers, "running_var") || !eps || !eps->is<double>()) return std::nullopt;
  return *eps->get_if<double>();
}

void collect_module(const Object& module, const std::string& prefix, Checkpoint& checkpoint) {
  const Dict& state = attributes(module);
  append_module_tensors(dict_attribute(state, "_parameters"), prefix, {}, checkpoint.tensors);
  append_module_tensors(dict_attribute(state, "_buffers"), prefix, non_persistent_buffer_names(state),
                        checkpoint.tensors);
  if (!checkpoint.bn_eps) checkpoint.bn_eps = batch_norm_eps(state);
  const Dict* children = dict_attribute(state, "_modules");
  if (!children) return;
  for (const auto& [key, value] : children->items) {
    const auto* name = key->get_if<std::string>();
    if (!name) throw Error("module under '" + prefix + "' has a non-string submodule name");
    if (value->is<pickle::None>()) continue;
    const auto* child = value->get_if<Object>();
    if (!child) throw Error("submodule " + prefix + *name + " is " + pickle::describe(*value));
    collect_module(*child, prefix + *name + ".", checkpoint);
  }
}

// names: {0: "person", ...} or ["person", ...].
std::vector<std::string> class_names(const Value& names) {
  std::vector<std::pair<std::int64_t, std::string>> indexed;
  if (const auto* list = names.get_if<pickle::List>()) {
    for (const auto& item : list->items) {
      const auto* name = item->get_if<std::string>();
      if (!name) throw Error("model class names hold " + pickle::describe(*item));
      indexed.emplace_back(static_cast<std::int64_t>(indexed.size()), *name);
    }
  } else if (const auto* dict = names.get_if<Dict>()) {
    for (const auto& [key, value] : dict->items) {
      const auto* index = key->get_if<std::int64_t>();
      const auto* name = value->get_if<std::string>();
      if (!index || !name) throw Error("model class names must map int to string");
      indexed.emplace_back(*index, *name);
    }
  } else {
    throw Error("model class names are " + pickle::describe(names));
  }
  std::sort(indexed.begin(), indexed.end());
  std::vector<std::string> ordered;
  for (auto& entry : indexed) ordered.push_back(std::move(entry.second));
  return ordered;
}

std::vector<double> tensor_values(const at::Tensor& tensor) {
  const at::Tensor values = tensor.to(at::kDouble).contiguous();
  const double* data = values.data_ptr<double>();
  return std::vector<double>(data, data + values.numel());
}

Checkpoint read_module_tree(const Object& model) {
  Checkpoint checkpoint;
  checkpoint.kind = "ultralytics-checkpoint";
  collect_module(model, "", checkpoint);
  const Dict& state = attributes(model);
  if (const Value* names = pickle::find(state, "names")) checkpoint.class_names = class_names(*names);
  if (const Value* stride = pickle::find(state, "stride"); stride && stride->is<at::Tensor>()) {
    checkpoint.strides = tensor_values(*stride->get_if<at::Tensor>());
  }
  return checkpoint;
}

// The module of an Ultralytics checkpoint dict: "model", or "ema" when model is None.
const Object* checkpoint_model(const Dict& root) {
  const Value* model = pickle::find(root, "model");
  if (model && model->is<pickle::None>()) model = pickle::find(root, "ema");
  return model ? model->get_if<Object>() : nullptr;
}

Checkpoint read_state_dict(const Dict& root) {
  Checkpoint checkpoint;
  checkpoint.kind = "state-dict";
  try {
    checkpoint.tensors = named_tensors(root);
  } catch (const Error& error) {
    throw Error(std::string("pickle root is a dict with no 'model' module and not a state dict: ") + error.what());
  }
  if (checkpoint.tensors.empty()) throw Error("pickle root is an empty dict, no tensors to read");
  strip_common_module_prefix(checkpoint.tensors);
  return checkpoint;
}

Checkpoint interpret_checkpoint(const Value& root) {
  if (const auto* module = root.get_if<Object>()) return read_module_tree(*module);
  const auto* dict = root.get_if<Dict>();
  if (!dict) throw Error("pickle root is " + pickle::describe(root) + ", expected a checkpoint dict or a state dict");
  const Object* model = checkpoint_model(*dict);
  if (!model) return read_state_dict(*dict);
  Checkpoint checkpoint = read_module_tree(*model);
  const Value* version = pickle::find(*dict, "version");
  if (const auto* text = version ? version->get_if<std::string>() : nullptr) checkpoint.producer_version = *text;
  return checkpoint;
}

c10::impl::GenericDict tensor_dict(const NamedTensorList& tensors) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.defined()) throw Error("tensor " + name + " is undefined");
    if (dict.contains(name)) throw Error("tensor name " + name + " appears twice");
    // A compact CPU copy, so no view writes a larger shared storage.
    dict.insert(name, tensor.cpu().clone(at::MemoryFormat::Contiguous));
  }
  return dict;
}

}  // namespace

Checkpoint read_checkpoint(const fs::path& file) {
  return with_file_context(file, [&] { return interpret_checkpoint(*read_pickle_root(file)); });
}

NamedTensorList read_tensor_archive(const fs::path& file) {
  return with_file_context(file, [&] {
    const ValuePtr root = read_pickle_root(file);
    const auto* dict = root->get_if<Dict>();
    if (!dict) throw Error("pickle root is " + pickle::describe(*root) + ", expected a dict of name -> tensor");
    return named_tensors(*dict);
  });
}

void write_tensor_archive(const fs::path& file, const NamedTensorList& tensors) {
  const std::vector<char> bytes =
      with_file_context(file, [&] { return torch::jit::pickle_save(c10::IValue(tensor_dict(tensors))); });
  write_file_atomic(file, std::string_view(bytes.data(), bytes.size()));
}

}  // namespace yq
