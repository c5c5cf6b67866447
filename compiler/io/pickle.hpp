// A protocol-2 unpickler for torch.save archives, without Python.
//
// data.pkl is executed on a small stack machine (stack, mark stack, memo)
// and turns into a tree of shared Values. No Python class is imported: every
// GLOBAL becomes a Global, and calling one (REDUCE, NEWOBJ) makes a generic
// Object holding its class, arguments and later BUILD state. Only torch's
// tensor rebuilders, collections.OrderedDict, torch.Size, set and LibTorch's
// torch.jit._pickle.restore_type_tag are interpreted. Storages (BINPERSID)
// are read through a callback (the archive's "data/<key>" records); every
// tensor is a contiguous copy that owns its memory.
//
// Every value lives in the Unpickled result that made it and refers to
// others by plain pointer, so the shared and even cyclic graphs a pickle can
// build (through its memo) are freed in one go. Allocation is bounded: the
// values and container items by a multiple of the program's size, tensor
// bytes by a limit the caller gives.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace yq::pickle {

struct Value;
using ValuePtr = Value*;  // owned by the Unpickled result that made it

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
  std::string damage;  // why its record is damaged (from StorageRecord), else ""
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

// A program may create at most this many values and container items per
// byte of its own.
constexpr std::uint64_t kMaxItemsPerProgramByte = 8;

// The bytes of the record holding storage `key` and, when they are damaged,
// a description naming the record; throws yq::Error when there is no such record.
struct StorageRecord {
  std::string bytes;
  std::string damage;
};
using StorageReader = std::function<StorageRecord(const std::string& key)>;

struct Unpickled {
  std::deque<Value> values;  // every value the program made (stable addresses)
  Value* root = nullptr;
  // Tensors made from a damaged storage record: TensorImpl -> the record's damage.
  std::map<const void*, std::string> damaged_tensors;
};

// Runs the pickle program in `program`, reading storages with `read_storage`;
// storages and tensors together may take at most `max_tensor_bytes`.
// Throws yq::Error on unsupported opcodes, malformed or truncated streams,
// and on a program that would exceed its allocation limits.
Unpickled unpickle(std::string_view program, const StorageReader& read_storage, std::uint64_t max_tensor_bytes);

}  // namespace yq::pickle
