// Protocol-2 unpickler (see pickle.hpp). The Unpickler class reads one opcode
// at a time and applies it to a value stack; MARK positions live on a
// separate stack, memo entries are shared pointers, so a value stored with
// BINPUT and fetched with BINGET is the same object (as in Python) and later
// APPENDs, SETITEMs and BUILDs are seen through every reference. Each new
// value and container item is charged to a budget, and each storage and
// tensor copy to a byte budget, before it is allocated.
#include "compiler/io/pickle.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <unordered_map>

#include "compiler/util/error.hpp"

namespace yq::pickle {
namespace {

enum Opcode : std::uint8_t {
  kMark = '(',
  kStop = '.',
  kPop = '0',
  kPopMark = '1',
  kDup = '2',
  kBinFloat = 'G',
  kBinInt = 'J',
  kBinInt1 = 'K',
  kBinInt2 = 'M',
  kNone = 'N',
  kBinPersId = 'Q',
  kReduce = 'R',
  kBinString = 'T',
  kShortBinString = 'U',
  kBinUnicode = 'X',
  kAppend = 'a',
  kBuild = 'b',
  kGlobal = 'c',
  kDict = 'd',
  kEmptyDict = '}',
  kAppends = 'e',
  kBinGet = 'h',
  kLongBinGet = 'j',
  kList = 'l',
  kEmptyList = ']',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kSetItem = 's',
  kTuple = 't',
  kEmptyTuple = ')',
  kSetItems = 'u',
  kBinBytes = 'B',
  kShortBinBytes = 'C',
  kProto = 0x80,
  kNewObj = 0x81,
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kLong1 = 0x8a,
  kShortBinUnicode = 0x8c,
};

std::string full_name(const Global& global) { return global.module + "." + global.name; }

const std::vector<ValuePtr>& sequence_items(const Value& value, const char* what) {
  if (const auto* tuple = value.get_if<Tuple>()) return tuple->items;
  if (const auto* list = value.get_if<List>()) return list->items;
  throw Error(std::string(what) + " must be a tuple or list, found " + describe(value));
}

std::int64_t integer(const Value& value, const char* what) {
  if (const auto* number = value.get_if<std::int64_t>()) return *number;
  throw Error(std::string(what) + " must be an int, found " + describe(value));
}

std::vector<std::int64_t> integers(const Value& value, const char* what) {
  std::vector<std::int64_t> numbers;
  for (const auto& item : sequence_items(value, what)) numbers.push_back(integer(*item, what));
  return numbers;
}

at::ScalarType storage_dtype(const Value& type) {
  static const std::map<std::string, at::ScalarType> dtypes = {
      {"torch.HalfStorage", at::kHalf},     {"torch.FloatStorage", at::kFloat},
      {"torch.DoubleStorage", at::kDouble}, {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},     {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},   {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},     {"torch.BoolStorage", at::kBool}};
  const auto* global = type.get_if<Global>();
  if (!global) throw Error("storage type must be a global, found " + describe(type));
  const auto found = dtypes.find(full_name(*global));
  if (found == dtypes.end()) throw Error("unsupported storage type " + full_name(*global));
  return found->second;
}

class Unpickler {
 public:
  Unpickler(std::string_view program, const StorageReader& read_storage, std::uint64_t max_tensor_bytes)
      : program_(program),
        read_storage_(read_storage),
        item_budget_(kMaxItemsPerProgramByte * program.size() + 64),
        tensor_byte_budget_(max_tensor_bytes) {}

  Unpickled run() && {
    while (position_ < program_.size()) {
      opcode_position_ = position_;
      if (!execute(read_byte())) {
        result_.root = pop();
        return std::move(result_);
      }
    }
    throw Error("pickle stream truncated: no STOP opcode in " + std::to_string(program_.size()) + " bytes");
  }

 private:
  // --- allocation budgets ---
  void charge_items(std::size_t count) {
    if (count > item_budget_) {
      throw Error("pickle program of " + std::to_string(program_.size()) + " bytes builds more than " +
                  std::to_string(kMaxItemsPerProgramByte) + " values per byte");
    }
    item_budget_ -= count;
  }
  void charge_tensor_bytes(std::uint64_t bytes) {
    if (bytes > tensor_byte_budget_) throw Error("tensors exceed the reader's memory limit for this file");
    tensor_byte_budget_ -= bytes;
  }
  template <typename T>
  ValuePtr make(T&& content) {
    charge_items(1);
    return &result_.values.emplace_back(Value{std::forward<T>(content)});
  }
  std::vector<ValuePtr> copy_items(const std::vector<ValuePtr>& items) {
    charge_items(items.size());
    return items;
  }

  // --- interpreted globals ---
  // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...).
  ValuePtr rebuild_tensor(const std::vector<ValuePtr>& arguments) {
    if (arguments.size() < 4) throw Error("_rebuild_tensor_v2 needs at least 4 arguments");
    const auto* storage = arguments[0]->get_if<Storage>();
    if (!storage) throw Error("_rebuild_tensor_v2 expects a storage, found " + describe(*arguments[0]));
    const std::int64_t offset = integer(*arguments[1], "tensor storage offset");
    constexpr std::size_t kMaxRank = 64;
    if (sequence_items(*arguments[2], "tensor size").size() > kMaxRank) throw Error("tensor has over 64 dimensions");
    const auto size = integers(*arguments[2], "tensor size");
    const auto stride = integers(*arguments[3], "tensor stride");
    if (size.size() != stride.size()) throw Error("tensor size and stride have different ranks");
    // The last element's storage index and the element count; `overflow` when either exceeds int64.
    std::int64_t last = offset, numel = 1;
    bool overflow = false;
    for (std::size_t d = 0; d < size.size(); ++d) {
      if (size[d] < 0 || stride[d] < 0) throw Error("tensor has a negative size or stride");
      std::int64_t reach = 0;
      overflow = overflow || __builtin_mul_overflow(numel, size[d], &numel);
      if (size[d] > 0) {
        overflow = overflow || __builtin_mul_overflow(size[d] - 1, stride[d], &reach) ||
                   __builtin_add_overflow(last, reach, &last);
      }
    }
    const auto dtype = storage->elements.scalar_type();
    if (std::find(size.begin(), size.end(), 0) != size.end()) {
      return make(at::empty(size, at::TensorOptions().dtype(dtype)));
    }
    if (offset < 0 || overflow || last >= storage->elements.numel()) {
      throw Error("tensor reaches past the end of its storage");
    }
    std::int64_t bytes = 0;
    charge_tensor_bytes(__builtin_mul_overflow(numel, storage->elements.element_size(), &bytes)
                            ? UINT64_MAX
                            : static_cast<std::uint64_t>(bytes));
    at::Tensor tensor = storage->elements.as_strided(size, stride, offset).clone(at::MemoryFormat::Contiguous);
    if (!storage->damage.empty()) result_.damaged_tensors[tensor.unsafeGetTensorImpl()] = storage->damage;
    return make(std::move(tensor));
  }

  // collections.OrderedDict() or OrderedDict([(key, value), ...]).
  ValuePtr ordered_dict(const std::vector<ValuePtr>& arguments) {
    Dict dict;
    if (!arguments.empty()) {
      for (const auto& pair : sequence_items(*arguments[0], "OrderedDict argument")) {
        const auto& key_value = sequence_items(*pair, "OrderedDict item");
        if (key_value.size() != 2) throw Error("OrderedDict item must be a (key, value) pair");
        charge_items(2);
        dict.items.emplace_back(key_value[0], key_value[1]);
      }
    }
    return make(std::move(dict));
  }

  // torch.Size(tuple) and set(iterable) become a tuple and a list.
  template <typename Sequence>
  ValuePtr sequence_from(const std::vector<ValuePtr>& arguments, const char* what) {
    if (arguments.empty()) return make(Sequence{});
    return make(Sequence{copy_items(sequence_items(*arguments[0], what))});
  }

  // The result of calling a global (REDUCE or NEWOBJ).
  ValuePtr call(const ValuePtr& callable, const ValuePtr& arguments_value) {
    const auto* global = callable->get_if<Global>();
    if (!global) throw Error("cannot call " + describe(*callable));
    const auto& arguments = sequence_items(*arguments_value, "call arguments");
    const std::string name = full_name(*global);
    if (name == "torch._utils._rebuild_tensor_v2") return rebuild_tensor(arguments);
    if (name == "torch._utils._rebuild_parameter") {
      if (arguments.empty() || !arguments[0]->is<at::Tensor>()) throw Error("_rebuild_parameter expects a tensor");
      return arguments[0];
    }
    if (name == "torch.jit._pickle.restore_type_tag") {  // LibTorch's pickler: (value, "Dict[str, Tensor]")
      if (arguments.empty()) throw Error("restore_type_tag needs a value");
      return arguments[0];
    }
    if (name == "collections.OrderedDict") return ordered_dict(arguments);
    if (name == "torch.Size") return sequence_from<Tuple>(arguments, "torch.Size argument");
    if (name == "__builtin__.set" || name == "builtins.set") return sequence_from<List>(arguments, "set argument");
    return make(Object{*global, arguments_value, nullptr});
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error("malformed pickle at byte " + std::to_string(opcode_position_) + ": " + problem);
  }

  // --- reading the program ---
  [[noreturn]] void truncated(const std::string& needed) const {
    throw Error("pickle stream truncated: opcode at byte " + std::to_string(opcode_position_) + " needs " + needed +
                ", only " + std::to_string(program_.size() - position_) + " bytes remain");
  }
  std::string_view read_bytes(std::size_t count) {
    if (count > program_.size() - position_) truncated(std::to_string(count) + " bytes");
    const auto bytes = program_.substr(position_, count);
    position_ += count;
    return bytes;
  }
  std::uint8_t read_byte() { return static_cast<std::uint8_t>(read_bytes(1)[0]); }
  std::uint64_t read_little_endian(std::size_t count) {
    const auto bytes = read_bytes(count);
    std::uint64_t number = 0;
    for (std::size_t i = count; i-- > 0;) number = (number << 8) | static_cast<std::uint8_t>(bytes[i]);
    return number;
  }
  std::int64_t read_long1() {  // little-endian two's complement of 0..8 bytes
    const std::size_t count = read_byte();
    if (count > 8) fail("integer wider than 64 bits");
    if (count == 0) return 0;
    const std::uint64_t bits = read_little_endian(count);
    const int unused = 64 - 8 * static_cast<int>(count);
    return static_cast<std::int64_t>(bits << unused) >> unused;
  }
  double read_big_endian_double() {
    const auto bytes = read_bytes(8);
    std::uint64_t bits = 0;
    for (char byte : bytes) bits = (bits << 8) | static_cast<std::uint8_t>(byte);
    return std::bit_cast<double>(bits);
  }
  std::string read_line() {
    const auto end = program_.find('\n', position_);
    if (end == std::string_view::npos) truncated("a newline-terminated name");
    std::string line(program_.substr(position_, end - position_));
    position_ = end + 1;
    return line;
  }
  std::string read_string(std::size_t length_bytes) {
    return std::string(read_bytes(read_little_endian(length_bytes)));
  }

  // --- the stacks ---
  void push(ValuePtr value) { stack_.push_back(std::move(value)); }
  ValuePtr pop() {
    if (stack_.size() <= stack_floor()) fail("pop from an empty stack");
    auto value = std::move(stack_.back());
    stack_.pop_back();
    return value;
  }
  Value& top() {
    if (stack_.size() <= stack_floor()) fail("stack is empty");
    return *stack_.back();
  }
  std::size_t stack_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<ValuePtr> pop_to_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    std::vector<ValuePtr> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  std::vector<ValuePtr> pop_n(std::size_t count) {
    if (stack_.size() < stack_floor() + count) fail("stack holds fewer than " + std::to_string(count) + " values");
    std::vector<ValuePtr> items(stack_.end() - static_cast<std::ptrdiff_t>(count), stack_.end());
    stack_.resize(stack_.size() - count);
    return items;
  }
  template <typename Container>
  Container& top_as(const char* opcode) {
    auto* container = top().get_if<Container>();
    if (!container) fail(std::string(opcode) + " on " + describe(top()));
    return *container;
  }

  // --- opcode handlers ---
  void memo_put(std::uint32_t key) {
    top();  // fails on an empty stack
    memo_[key] = stack_.back();
  }
  void duplicate() {
    top();  // fails on an empty stack
    push(stack_.back());
  }
  void memo_get(std::uint32_t key) {
    const auto found = memo_.find(key);
    if (found == memo_.end()) fail("memo key " + std::to_string(key) + " is not set");
    push(found->second);
  }
  void pop_value_or_mark() {
    if (!marks_.empty() && marks_.back() == stack_.size()) {
      marks_.pop_back();
    } else {
      pop();
    }
  }
  void make_dict(std::vector<ValuePtr> items) {
    if (items.size() % 2 != 0) fail("odd number of dict keys and values");
    charge_items(items.size());
    Dict dict;
    for (std::size_t i = 0; i < items.size(); i += 2) dict.items.emplace_back(items[i], items[i + 1]);
    push(make(std::move(dict)));
  }
  void set_items(std::vector<ValuePtr> items, const char* opcode) {
    if (items.size() % 2 != 0) fail("odd number of dict keys and values");
    charge_items(items.size());
    auto& dict = top_as<Dict>(opcode);
    for (std::size_t i = 0; i < items.size(); i += 2) dict.items.emplace_back(items[i], items[i + 1]);
  }
  void append(std::vector<ValuePtr> items, const char* opcode) {
    charge_items(items.size());
    auto& list = top_as<List>(opcode);
    list.items.insert(list.items.end(), items.begin(), items.end());
  }
  void call_top(const char* opcode) {
    auto arguments = pop();
    auto callable = pop();
    try {
      push(call(callable, arguments));
    } catch (const Error& error) {
      fail(std::string(opcode) + ": " + error.what());
    }
  }
  // BUILD sets an object's state; on interpreted values (a dict, a set, a
  // tensor) it would only set Python attributes, which are dropped.
  void build() {
    auto state = pop();
    if (auto* object = top().get_if<Object>()) object->state = std::move(state);
  }
  void persistent_load() {
    auto id = pop();
    try {
      push(load_storage(sequence_items(*id, "persistent id")));
    } catch (const Error& error) {
      fail(std::string("BINPERSID: ") + error.what());
    }
  }
  // ('storage', torch.XxxStorage, key, location, numel): reads data/<key> once.
  ValuePtr load_storage(const std::vector<ValuePtr>& id) {
    const auto* kind = id.empty() ? nullptr : id[0]->get_if<std::string>();
    if (!kind || *kind != "storage" || id.size() < 5) throw Error("expected ('storage', type, key, location, numel)");
    const auto dtype = storage_dtype(*id[1]);
    const auto* key = id[2]->get_if<std::string>();
    if (!key) throw Error("storage key must be a string");
    const std::int64_t numel = integer(*id[4], "storage size");
    auto& storage = storages_[*key];
    if (!storage.elements.defined()) storage = read_storage(*key, dtype, numel);
    return make(Storage{storage});
  }
  // The record's bytes are checked to hold `numel` elements before any allocation.
  Storage read_storage(const std::string& key, at::ScalarType dtype, std::int64_t numel) {
    StorageRecord record = read_storage_(key);
    const std::int64_t element_size = static_cast<std::int64_t>(c10::elementSize(dtype));
    std::int64_t expected = 0;
    if (numel < 0 || __builtin_mul_overflow(numel, element_size, &expected) ||
        static_cast<std::uint64_t>(expected) > record.bytes.size()) {
      throw Error("record data/" + key + " has " + std::to_string(record.bytes.size()) + " bytes, too few for " +
                  std::to_string(numel) + " elements of " + std::to_string(element_size) + " bytes");
    }
    charge_tensor_bytes(static_cast<std::uint64_t>(expected));
    Storage storage{at::empty({numel}, at::TensorOptions().dtype(dtype)), {}};
    if (expected > 0) std::memcpy(storage.elements.data_ptr(), record.bytes.data(), static_cast<std::size_t>(expected));
    storage.damage = std::move(record.damage);
    return storage;
  }

  // Applies one opcode; false at STOP.
  bool execute(std::uint8_t opcode) {
    switch (opcode) {
      case kProto: read_byte(); break;
      case kStop: return false;
      case kMark: marks_.push_back(stack_.size()); break;
      case kPop: pop_value_or_mark(); break;
      case kPopMark: pop_to_mark(); break;
      case kDup: duplicate(); break;
      case kBinPut: memo_put(read_byte()); break;
      case kLongBinPut: memo_put(static_cast<std::uint32_t>(read_little_endian(4))); break;
      case kBinGet: memo_get(read_byte()); break;
      case kLongBinGet: memo_get(static_cast<std::uint32_t>(read_little_endian(4))); break;
      case kNone: push(make(None{})); break;
      case kNewTrue: push(make(true)); break;
      case kNewFalse: push(make(false)); break;
      case kBinInt1: push(make(static_cast<std::int64_t>(read_byte()))); break;
      case kBinInt2: push(make(static_cast<std::int64_t>(read_little_endian(2)))); break;
      case kBinInt: push(make(static_cast<std::int64_t>(static_cast<std::int32_t>(read_little_endian(4))))); break;
      case kLong1: push(make(read_long1())); break;
      case kBinFloat: push(make(read_big_endian_double())); break;
      case kShortBinUnicode:
      case kShortBinString:
      case kShortBinBytes: push(make(read_string(1))); break;
      case kBinUnicode:
      case kBinString:
      case kBinBytes: push(make(read_string(4))); break;
      case kGlobal: {
        auto module = read_line();
        push(make(Global{std::move(module), read_line()}));
        break;
      }
      case kEmptyTuple: push(make(Tuple{})); break;
      case kTuple: push(make(Tuple{pop_to_mark()})); break;
      case kTuple1: push(make(Tuple{pop_n(1)})); break;
      case kTuple2: push(make(Tuple{pop_n(2)})); break;
      case kTuple3: push(make(Tuple{pop_n(3)})); break;
      case kEmptyList: push(make(List{})); break;
      case kList: push(make(List{pop_to_mark()})); break;
      case kAppend: append(pop_n(1), "APPEND"); break;
      case kAppends: append(pop_to_mark(), "APPENDS"); break;
      case kEmptyDict: push(make(Dict{})); break;
      case kDict: make_dict(pop_to_mark()); break;
      case kSetItem: set_items(pop_n(2), "SETITEM"); break;
      case kSetItems: set_items(pop_to_mark(), "SETITEMS"); break;
      case kReduce: call_top("REDUCE"); break;
      case kNewObj: call_top("NEWOBJ"); break;
      case kBuild: build(); break;
      case kBinPersId: persistent_load(); break;
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", opcode);
        throw Error(std::string("unsupported pickle opcode ") + hex + " at byte " + std::to_string(opcode_position_));
      }
    }
    return true;
  }

  std::string_view program_;
  const StorageReader& read_storage_;
  std::uint64_t item_budget_;
  std::uint64_t tensor_byte_budget_;
  Unpickled result_;
  std::size_t position_ = 0;
  std::size_t opcode_position_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, ValuePtr> memo_;
  std::map<std::string, Storage> storages_;  // by record key, shared between views
};

}  // namespace

std::string describe(const Value& value) {
  if (const auto* object = value.get_if<Object>()) return "an object of class " + full_name(object->type);
  if (const auto* global = value.get_if<Global>()) return "the global " + full_name(*global);
  static const char* const kinds[] = {"None",   "a bool", "an int",   "a float",   "a string", "a tuple",
                                      "a list", "a dict", "a global", "an object", "a tensor", "a storage"};
  static_assert(std::size(kinds) == std::variant_size_v<decltype(Value::data)>);
  return kinds[value.data.index()];
}

const Value* find(const Dict& dict, std::string_view key) {
  for (const auto& [item_key, item_value] : dict.items) {
    const auto* text = item_key->get_if<std::string>();
    if (text && *text == key) return item_value;
  }
  return nullptr;
}

Unpickled unpickle(std::string_view program, const StorageReader& read_storage, std::uint64_t max_tensor_bytes) {
  return Unpickler(program, read_storage, max_tensor_bytes).run();
}

}  // namespace yq::pickle
