// Checkpoint reading and tensor-archive writing (see checkpoint.hpp).
//
// Reading: check the file exists and is not the legacy (non-zip) torch
// format, open the zip (compiler/io/zip_archive.hpp: every record's size
// and CRC-32 checked), unpickle data.pkl with our own unpickler
// (compiler/io/pickle.hpp), then interpret the root: a dict whose "model"
// (or "ema") is a module object, a bare module object, or a dict of
// name -> tensor. A module tree is walked depth first like
// nn.Module.state_dict(): a module's parameters, then its persistent buffers,
// then its submodules, names joined by dots. A damaged record is refused
// after interpretation, so the message can name the tensor it holds. The
// reader allocates at most a small multiple of the file's size. Every
// failure, whether ours, c10's or the standard library's, becomes one
// yq::Error line "<file>: ...".
//
// Writing: torch::jit::pickle_save (what torch::pickle_save forwards to; its
// header costs less to compile) of a c10 string -> tensor dict produces the
// torch.save zip bytes; they are written to "<file>.tmp" and renamed.
#include "compiler/io/checkpoint.hpp"

#include <ATen/core/Dict.h>
#include <c10/util/Exception.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>

#include "compiler/io/pickle.hpp"
#include "compiler/io/zip_archive.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"

namespace yq {
namespace {

namespace fs = std::filesystem;
using pickle::Dict;
using pickle::Object;
using pickle::Value;

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

void reject_missing_file(const fs::path& file) {
  if (!fs::exists(file)) throw Error("file not found");
  if (fs::is_directory(file)) throw Error("is a folder, not a checkpoint file");
}

// Tensors (storages and their contiguous copies) may take at most this many
// times the checkpoint's size: views of one storage are copied apart, and a
// zip may hold its records compressed.
constexpr std::uint64_t kMaxTensorBytesPerFileByte = 8;

// The records of a torch.save zip all live in one top folder ("archive/",
// or the name the file was saved under); records are named below it.
class TorchArchive {
 public:
  explicit TorchArchive(std::string bytes) : zip_(open_zip(std::move(bytes))) {
    const std::string& first = zip_->record_names().front();
    folder_ = first.substr(0, first.find('/') + 1);
    if (!zip_->has_record(folder_ + "data.pkl")) throw Error("zip has no data.pkl record");
  }

  // data.pkl, refused when damaged (nothing can be trusted after it).
  std::string pickle_program() const {
    ZipArchive::Record record = zip_->read_record(folder_ + "data.pkl");
    if (!record.damage.empty()) throw Error("record " + folder_ + "data.pkl is corrupt: " + record.damage);
    return std::move(record.bytes);
  }

  pickle::StorageRecord storage(const std::string& key) const {
    const std::string name = folder_ + "data/" + key;
    ZipArchive::Record record = zip_->read_record(name);
    return {std::move(record.bytes), record.damage.empty() ? "" : "record " + name + ": " + record.damage};
  }

  // Refuses the first damaged record outside data.pkl and data/ (e.g. "version").
  void check_other_records() const {
    for (const std::string& name : zip_->record_names()) {
      if (name == folder_ + "data.pkl" || name.starts_with(folder_ + "data/")) continue;
      const std::string damage = zip_->read_record(name).damage;
      if (!damage.empty()) throw Error("record " + name + " is corrupt: " + damage);
    }
  }

  std::uint64_t max_tensor_bytes() const { return kMaxTensorBytesPerFileByte * zip_->size(); }

 private:
  static std::unique_ptr<ZipArchive> open_zip(std::string bytes) {
    if (std::string_view(bytes).starts_with(kLegacyTorchMagic)) {
      throw Error("legacy (non-zip) torch.save format is not supported; re-save it with torch >= 1.6");
    }
    try {
      auto zip = std::make_unique<ZipArchive>(std::move(bytes));
      if (zip->record_names().empty()) throw Error("the zip holds no records");
      return zip;
    } catch (const Error& error) {
      throw Error(std::string("not a PyTorch zip checkpoint (truncated or corrupt): ") + error.what());
    }
  }

  std::unique_ptr<ZipArchive> zip_;
  std::string folder_;
};

// The unpickled data.pkl of a torch.save zip held in `bytes`, with every storage loaded.
pickle::Unpickled load_pickle(std::string bytes) {
  const TorchArchive archive(std::move(bytes));
  archive.check_other_records();
  return pickle::unpickle(
      archive.pickle_program(), [&](const std::string& key) { return archive.storage(key); },
      archive.max_tensor_bytes());
}

// Refuses the first tensor (in file order) read from a damaged record.
void refuse_damaged_tensors(const NamedTensorList& tensors, const pickle::Unpickled& loaded) {
  const auto& damaged = loaded.damaged_tensors;
  if (damaged.empty()) return;
  for (const auto& [name, tensor] : tensors) {
    const auto found = damaged.find(tensor.unsafeGetTensorImpl());
    if (found != damaged.end()) {
      throw Error("tensor " + name + " is corrupt (" + found->second + ")");
    }
  }
  throw Error("corrupt " + damaged.begin()->second);
}

// Interpretation copies names and may walk a module that a pickle shares
// (through its memo) more than once; the copies are bounded by a multiple of
// the values the pickle holds, so no small file expands without limit.
class CopyBudget {
 public:
  static constexpr std::size_t kPerValue = 16;
  explicit CopyBudget(const pickle::Unpickled& pickle) : remaining_(kPerValue * pickle.values.size() + (1 << 16)) {}
  const std::string& copy(const std::string& text) {
    charge(1 + text.size());
    return text;
  }
  void charge(std::size_t units) {
    if (units > remaining_) throw Error("checkpoint structure expands to over " + std::to_string(kPerValue) +
                                        " names or modules per pickled value");
    remaining_ -= units;
  }

 private:
  std::size_t remaining_;
};

// --- plain state dicts ---

NamedTensorList named_tensors(const Dict& dict, CopyBudget& budget) {
  NamedTensorList tensors;
  for (const auto& [key, value] : dict.items) {
    const auto* name = key->get_if<std::string>();
    if (!name) throw Error("a key is " + pickle::describe(*key) + ", not a tensor name");
    const auto* tensor = value->get_if<at::Tensor>();
    if (!tensor) throw Error("entry '" + *name + "' is " + pickle::describe(*value) + ", not a tensor");
    tensors.emplace_back(budget.copy(*name), *tensor);
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

std::set<std::string> non_persistent_buffer_names(const Dict& attributes, CopyBudget& budget) {
  std::set<std::string> names;
  const Value* value = pickle::find(attributes, "_non_persistent_buffers_set");
  if (const auto* list = value ? value->get_if<pickle::List>() : nullptr) {
    for (const auto& item : list->items) {
      if (const auto* name = item->get_if<std::string>()) names.insert(budget.copy(*name));
    }
  }
  return names;
}

// Appends the tensors of a _parameters or _buffers dict, skipping None and `excluded`.
void append_module_tensors(const Dict* tensors, const std::string& prefix, const std::set<std::string>& excluded,
                           NamedTensorList& out, CopyBudget& budget) {
  if (!tensors) return;
  for (const auto& [key, value] : tensors->items) {
    const auto* name = key->get_if<std::string>();
    if (!name) throw Error("module under '" + prefix + "' has a non-string tensor name");
    if (value->is<pickle::None>() || excluded.contains(*name)) continue;
    const auto* tensor = value->get_if<at::Tensor>();
    if (!tensor) throw Error(prefix + *name + " is " + pickle::describe(*value) + ", not a tensor");
    out.emplace_back(budget.copy(prefix + *name), *tensor);
  }
}

// A BatchNorm-like module: a running_var buffer and a float eps attribute.
std::optional<double> batch_norm_eps(const Dict& attributes) {
  const Dict* buffers = dict_attribute(attributes, "_buffers");
  const Value* eps = pickle::find(attributes, "eps");
  if (!buffers || !pickle::find(*buffers, "running_var") || !eps || !eps->is<double>()) return std::nullopt;
  return *eps->get_if<double>();
}

// Real module trees are a few levels deep; a pickle can make a cycle.
constexpr int kMaxModuleDepth = 64;

void collect_module(const Object& module, const std::string& prefix, int depth, Checkpoint& checkpoint,
                    CopyBudget& budget) {
  if (depth > kMaxModuleDepth) {
    throw Error("module tree deeper than " + std::to_string(kMaxModuleDepth) + " levels at '" + prefix + "'");
  }
  budget.charge(1 + prefix.size());
  const Dict& state = attributes(module);
  append_module_tensors(dict_attribute(state, "_parameters"), prefix, {}, checkpoint.tensors, budget);
  append_module_tensors(dict_attribute(state, "_buffers"), prefix, non_persistent_buffer_names(state, budget),
                        checkpoint.tensors, budget);
  if (!checkpoint.bn_eps) checkpoint.bn_eps = batch_norm_eps(state);
  const Dict* children = dict_attribute(state, "_modules");
  if (!children) return;
  for (const auto& [key, value] : children->items) {
    const auto* name = key->get_if<std::string>();
    if (!name) throw Error("module under '" + prefix + "' has a non-string submodule name");
    if (value->is<pickle::None>()) continue;
    const auto* child = value->get_if<Object>();
    if (!child) throw Error("submodule " + prefix + *name + " is " + pickle::describe(*value));
    collect_module(*child, budget.copy(prefix + *name + "."), depth + 1, checkpoint, budget);
  }
}

// names: {0: "person", ...} or ["person", ...].
std::vector<std::string> class_names(const Value& names, CopyBudget& budget) {
  std::vector<std::pair<std::int64_t, std::string>> indexed;
  if (const auto* list = names.get_if<pickle::List>()) {
    for (const auto& item : list->items) {
      const auto* name = item->get_if<std::string>();
      if (!name) throw Error("model class names hold " + pickle::describe(*item));
      indexed.emplace_back(static_cast<std::int64_t>(indexed.size()), budget.copy(*name));
    }
  } else if (const auto* dict = names.get_if<Dict>()) {
    for (const auto& [key, value] : dict->items) {
      const auto* index = key->get_if<std::int64_t>();
      const auto* name = value->get_if<std::string>();
      if (!index || !name) throw Error("model class names must map int to string");
      indexed.emplace_back(*index, budget.copy(*name));
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

Checkpoint read_module_tree(const Object& model, CopyBudget& budget) {
  Checkpoint checkpoint;
  checkpoint.kind = "ultralytics-checkpoint";
  collect_module(model, "", 0, checkpoint, budget);
  const Dict& state = attributes(model);
  if (const Value* names = pickle::find(state, "names")) checkpoint.class_names = class_names(*names, budget);
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

Checkpoint read_state_dict(const Dict& root, CopyBudget& budget) {
  Checkpoint checkpoint;
  checkpoint.kind = "state-dict";
  try {
    checkpoint.tensors = named_tensors(root, budget);
  } catch (const Error& error) {
    throw Error(std::string("pickle root is a dict with no 'model' module and not a state dict: ") + error.what());
  }
  if (checkpoint.tensors.empty()) throw Error("pickle root is an empty dict, no tensors to read");
  strip_common_module_prefix(checkpoint.tensors);
  return checkpoint;
}

Checkpoint interpret_checkpoint(const Value& root, CopyBudget& budget) {
  if (const auto* module = root.get_if<Object>()) return read_module_tree(*module, budget);
  const auto* dict = root.get_if<Dict>();
  if (!dict) throw Error("pickle root is " + pickle::describe(root) + ", expected a checkpoint dict or a state dict");
  const Object* model = checkpoint_model(*dict);
  if (!model) return read_state_dict(*dict, budget);
  Checkpoint checkpoint = read_module_tree(*model, budget);
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
  return with_file_context(file, [&] {
    reject_missing_file(file);
    return parse_checkpoint(read_file_bytes(file));
  });
}

Checkpoint parse_checkpoint(std::string bytes) {
  const pickle::Unpickled pickle = load_pickle(std::move(bytes));
  CopyBudget budget(pickle);
  Checkpoint checkpoint = interpret_checkpoint(*pickle.root, budget);
  refuse_damaged_tensors(checkpoint.tensors, pickle);
  return checkpoint;
}

NamedTensorList read_tensor_archive(const fs::path& file) {
  return with_file_context(file, [&] {
    reject_missing_file(file);
    const pickle::Unpickled pickle = load_pickle(read_file_bytes(file));
    const auto* dict = pickle.root->get_if<Dict>();
    if (!dict) throw Error("pickle root is " + pickle::describe(*pickle.root) + ", expected a dict of name -> tensor");
    CopyBudget budget(pickle);
    NamedTensorList tensors = named_tensors(*dict, budget);
    refuse_damaged_tensors(tensors, pickle);
    return tensors;
  });
}

void write_tensor_archive(const fs::path& file, const NamedTensorList& tensors) {
  const std::vector<char> bytes =
      with_file_context(file, [&] { return torch::jit::pickle_save(c10::IValue(tensor_dict(tensors))); });
  write_file_atomic(file, std::string_view(bytes.data(), bytes.size()));
}

}  // namespace yq
