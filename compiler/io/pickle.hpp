// A protocol-2 unpickler for torch.save archives, without Python.
//
// data.pkl is executed on a small stack machine (stack, mark stack, memo)
// and turns into a tree of shared Values. No Python class is imported: every
// GLOBAL becomes a Global, and calling one (REDUCE, NEWOBJ) makes a generic
// Object holding its class, arguments and later BUILD state. Only torch's
// tensor rebuilders, collections.OrderedDict, torch.Size, set and LibTorch's
// torch.jit._pickle.restore_type_tag are interpreted. Storages (BINPERSID)
// are read from the archive's "data/<key>" records; every tensor is a
// contiguous copy that owns its memory.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace caffe2::serialize {
class PyTorchStreamReader;
}

namespace yq::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct None {};
struct Tuple {
  std::vector<ValuePtr> items;
};
struct List {
  std::vector<ValuePtr> items;
};
struct Dict {
  std::vector<std::pair<ValuePtr, ValuePtr>> items;  // insertion order
};
struct Global {
  std::string module;
  std::string name;
};
// An instance of a class the reader does not interpret (e.g. an nn.Module).
struct Object {
  Global type;
  ValuePtr arguments;  // constructor arguments (a Tuple)
  ValuePtr state;      // BUILD state (usually the instance __dict__), or nullptr
};
// A torch storage: a 1-D tensor of its element type, before a tensor views it.
struct Storage {
  at::Tensor elements;
};

struct Value {
  std::variant<None, bool, std::int64_t, double, std::string, Tuple, List, Dict, Global, Object, at::Tensor, Storage>
      data;

  template <typename T>
  const T* get_if() const {
    return std::get_if<T>(&data);
  }
  template <typename T>
  T* get_if() {
    return std::get_if<T>(&data);
  }
  template <typename T>
  bool is() const {
    return std::holds_alternative<T>(data);
  }
};

// "None", "bool", "int", "float", "string", "tuple", "list", "dict",
// "global", "object", "tensor" or "storage", with an article ("a list").
std::string describe(const Value& value);

// The value stored under a string key, or nullptr.
const Value* find(const Dict& dict, std::string_view key);

// Runs the pickle program in `program`; storages are read from `archive`.
// Throws yq::Error on unsupported opcodes, malformed or truncated streams.
ValuePtr unpickle(std::string_view program, caffe2::serialize::PyTorchStreamReader& archive);

}  // namespace yq::pickle
