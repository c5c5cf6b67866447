// Checkpoint reader and tensor-archive writer: the official yolov8n.pt (counts,
// metadata, values against golden/yolov8n_tensor_probe.txt written by the
// independent stdlib-Python reader scripts/make_tensor_probe.py, and against the
// float32 state dict), archive round trips, and one-line errors on bad files.
#include "testing.hpp"
#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <zip.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "compiler/io/checkpoint.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace std::string_literals;

namespace {

const fs::path kCheckpoint = "models/yolov8n/yolov8n.pt";
const fs::path kStateDict = "models/yolov8n/yolov8n_state_dict.pt";

struct ProbeElement {
  std::int64_t index = 0;
  std::uint64_t bits = 0;
  double value = 0;
};

struct ProbeTensor {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::vector<ProbeElement> elements;
};

struct Probe {
  std::map<std::string, std::int64_t> counts;  // state_dict_entries, parameter_elements, ...
  std::vector<double> strides;
  std::vector<ProbeTensor> tensors;
};

Probe read_probe() {
  std::ifstream in(fs::path(YQ_SOURCE_DIR) / "golden" / "yolov8n_tensor_probe.txt");
  REQUIRE(in);
  Probe probe;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key.empty() || key[0] == '#') continue;
    if (key == "tensor") {
      ProbeTensor tensor;
      std::string label;
      words >> tensor.name >> label >> tensor.dtype >> label;
      for (std::int64_t dim = 0; words >> dim;) tensor.shape.push_back(dim);
      probe.tensors.push_back(tensor);
    } else if (key == "element") {
      ProbeElement element;
      std::string label, bits;
      words >> element.index >> label >> bits >> label >> element.value;
      element.bits = std::stoull(bits, nullptr, 16);
      REQUIRE(!probe.tensors.empty());
      probe.tensors.back().elements.push_back(element);
    } else if (key == "strides") {
      for (double stride = 0; words >> stride;) probe.strides.push_back(stride);
    } else {
      words >> probe.counts[key];
    }
  }
  return probe;
}

std::string dtype_name(const at::Tensor& tensor) { return c10::toString(tensor.scalar_type()); }

// The probe's numpy-style dtype names as c10 names.
std::string probe_dtype_name(const std::string& name) {
  if (name == "float16") return "Half";
  if (name == "float32") return "Float";
  REQUIRE(name == "int64");
  return "Long";
}

// The stored bit pattern of one element of a contiguous tensor (little-endian host).
std::uint64_t element_bits(const at::Tensor& tensor, std::int64_t index) {
  std::uint64_t bits = 0;
  const auto* data = static_cast<const char*>(tensor.data_ptr()) + index * tensor.element_size();
  std::memcpy(&bits, data, static_cast<std::size_t>(tensor.element_size()));
  return bits;
}

const at::Tensor& tensor_named(const yq::NamedTensorList& tensors, const std::string& name) {
  for (const auto& [entry_name, tensor] : tensors) {
    if (entry_name == name) return tensor;
  }
  FAIL("no tensor " << name);
  throw std::logic_error("unreachable");
}

bool is_buffer(const std::string& name) {
  return name.ends_with(".running_mean") || name.ends_with(".running_var") || name.ends_with(".num_batches_tracked");
}

// The message of the yq::Error that `action` throws ("" if none).
std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const yq::Error& error) {
    return error.what();
  }
  return "";
}

void check_one_line_error(const fs::path& file, const std::string& expected) {
  const std::string message = error_message([&] { yq::read_checkpoint(file); });
  INFO("message: " << message);
  CHECK(message.find(expected) != std::string::npos);
  CHECK(message.starts_with(file.string() + ": "));
  CHECK(message.find('\n') == std::string::npos);
}

// A torch-style zip holding `records` (name -> bytes), written by torch's own writer.
void write_zip(const fs::path& file, const std::vector<std::pair<std::string, std::string>>& records) {
  caffe2::serialize::PyTorchStreamWriter writer(file.string());
  for (const auto& [name, bytes] : records) writer.writeRecord(name, bytes.data(), bytes.size());
  writer.writeEndOfFile();
}

void write_bytes(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary);
  out << bytes;
}

// Writes small protocol-2 pickle programs by hand, with torch's tensor layout:
// every tensor views the float32 storage "0" (6 elements), memo entry 0.
class PickleWriter {
 public:
  PickleWriter& op(char opcode) {
    bytes_ += opcode;
    return *this;
  }
  PickleWriter& global(const std::string& module, const std::string& name) {
    bytes_ += "c" + module + "\n" + name + "\n";
    return *this;
  }
  PickleWriter& text(const std::string& text) {
    bytes_ += 'X';
    for (int shift = 0; shift < 32; shift += 8) bytes_ += static_cast<char>((text.size() >> shift) & 0xff);
    bytes_ += text;
    return *this;
  }
  PickleWriter& small_int(int number) { return op('K').op(static_cast<char>(number)); }
  PickleWriter& int32(std::int32_t number) {
    op('J');
    for (int shift = 0; shift < 32; shift += 8) bytes_ += static_cast<char>((number >> shift) & 0xff);
    return *this;
  }
  PickleWriter& float64(double number) {
    const auto bits = std::bit_cast<std::uint64_t>(number);
    op('G');
    for (int shift = 56; shift >= 0; shift -= 8) bytes_ += static_cast<char>((bits >> shift) & 0xff);
    return *this;
  }
  PickleWriter& ints(const std::vector<int>& numbers) {
    op('(');
    for (int number : numbers) small_int(number);
    return op('t');
  }
  PickleWriter& ordered_dict() { return global("collections", "OrderedDict").op(')').op('R'); }
  PickleWriter& tensor(int offset, const std::vector<int>& size, const std::vector<int>& stride) {
    global("torch._utils", "_rebuild_tensor_v2").op('(');
    if (storage_written_) {
      op('h').op('\0');  // BINGET 0
    } else {
      op('(').text("storage").global("torch", "FloatStorage").text("0").text("cpu").small_int(6).op('t');
      op('Q').op('q').op('\0');  // BINPERSID, BINPUT 0
      storage_written_ = true;
    }
    small_int(offset).ints(size).ints(stride).op('\x89').ordered_dict();
    return op('t').op('R');
  }
  PickleWriter& parameter(int offset, const std::vector<int>& size, const std::vector<int>& stride) {
    global("torch._utils", "_rebuild_parameter").op('(');
    tensor(offset, size, stride).op('\x89').ordered_dict();
    return op('t').op('R');
  }
  std::string finish() { return "\x80\x02" + bytes_ + "."; }

 private:
  std::string bytes_;
  bool storage_written_ = false;
};

// Where a record's bytes lie in a torch.save zip, found by caffe2's own reader.
struct RecordSpan {
  std::string name;  // below the archive's top folder ("data/0", "data.pkl")
  std::size_t offset = 0;
  std::size_t size = 0;
};

std::vector<RecordSpan> record_spans(const fs::path& file) {
  caffe2::serialize::PyTorchStreamReader reader(file.string());
  std::vector<RecordSpan> spans;
  for (const std::string& name : reader.getAllRecords()) {
    spans.push_back({name, reader.getRecordOffset(name), std::get<1>(reader.getRecord(name))});
  }
  return spans;
}

std::string with_bit_flipped(std::string bytes, std::size_t bit) {
  bytes.at(bit / 8) = static_cast<char>(bytes.at(bit / 8) ^ (1 << (bit % 8)));
  return bytes;
}

void write_synthetic_archive(const fs::path& file, const std::string& program) {
  std::string storage;
  for (float value : {0.f, 1.f, 2.f, 3.f, 4.f, 5.f}) {
    storage.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  write_zip(file, {{"data.pkl", program}, {"data/0", storage}});
}

}  // namespace

TEST_CASE("checkpoint: OrderedDict state dict with parameters, views and a module. prefix") {
  const auto dir = yq::test::fresh_temp_dir("checkpoint-ordered");
  PickleWriter pickle;
  pickle.ordered_dict().op('(');
  pickle.text("module.a").parameter(0, {2, 3}, {3, 1});
  pickle.text("module.b").tensor(1, {2, 2}, {1, 3});  // a transposed view at offset 1
  pickle.op('u');
  pickle.op('}').op('(').text("_metadata").op('}').op('u').op('b');  // BUILD sets an attribute
  write_synthetic_archive(dir / "ordered.pt", pickle.finish());

  const auto checkpoint = yq::read_checkpoint(dir / "ordered.pt");
  CHECK(checkpoint.kind == "state-dict");
  REQUIRE(checkpoint.tensors.size() == 2);
  CHECK(checkpoint.tensors[0].first == "a");
  CHECK(checkpoint.tensors[1].first == "b");
  CHECK(at::equal(checkpoint.tensors[0].second, at::arange(6, at::kFloat).reshape({2, 3})));
  CHECK(at::equal(checkpoint.tensors[1].second, at::tensor({1.f, 4.f, 2.f, 5.f}).reshape({2, 2})));
  CHECK(checkpoint.tensors[1].second.is_contiguous());
}

TEST_CASE("checkpoint: a bare module object is walked like a state dict") {
  const auto dir = yq::test::fresh_temp_dir("checkpoint-module");
  PickleWriter pickle;
  pickle.global("somewhere.nets", "Net").op(')').op('\x81').op('}').op('(');
  pickle.text("_parameters").ordered_dict().op('(').text("w").parameter(0, {3}, {2}).op('u');
  pickle.text("_buffers").ordered_dict().op('(').text("running_var").tensor(3, {3}, {1});
  pickle.text("unused").op('N').op('u');
  pickle.text("_modules").ordered_dict();
  pickle.text("eps").float64(1e-5);
  pickle.text("names").op(']').op('(').text("cat").text("dog").op('e');
  pickle.op('u').op('b');
  write_synthetic_archive(dir / "module.pt", pickle.finish());

  const auto checkpoint = yq::read_checkpoint(dir / "module.pt");
  CHECK(checkpoint.kind == "ultralytics-checkpoint");
  REQUIRE(checkpoint.tensors.size() == 2);
  CHECK(checkpoint.tensors[0].first == "w");
  CHECK(checkpoint.tensors[1].first == "running_var");
  CHECK(at::equal(checkpoint.tensors[0].second, at::tensor({0.f, 2.f, 4.f})));
  CHECK(at::equal(checkpoint.tensors[1].second, at::tensor({3.f, 4.f, 5.f})));
  CHECK(checkpoint.bn_eps == 1e-5);
  CHECK(checkpoint.class_names == std::vector<std::string>{"cat", "dog"});
  CHECK(checkpoint.strides.empty());
}

TEST_CASE("checkpoint: official yolov8n.pt loads with its metadata") {
  if (!yq::test::have_shared_data()) return;
  const auto checkpoint = yq::read_checkpoint(yq::test::shared_file(kCheckpoint));
  CHECK(checkpoint.kind == "ultralytics-checkpoint");
  CHECK(checkpoint.producer_version == "8.0.0.dev0");
  REQUIRE(checkpoint.tensors.size() == 355);
  CHECK(checkpoint.tensors.front().first == "model.0.conv.weight");
  CHECK(checkpoint.tensors[4].first == "model.0.bn.running_var");
  CHECK(checkpoint.tensors.back().first == "model.22.dfl.conv.weight");

  // The documented 3,157,200 is the sum of numel over the modules' _parameters
  // (conv weights and biases, BatchNorm weight and bias); the BatchNorm buffers
  // (running_mean, running_var, num_batches_tracked) add another 10,649.
  // scripts/make_tensor_probe.py measured both sums from _parameters/_buffers.
  std::int64_t parameters = 0;
  std::int64_t buffers = 0;
  for (const auto& [name, tensor] : checkpoint.tensors) {
    (is_buffer(name) ? buffers : parameters) += tensor.numel();
    CHECK(tensor.is_contiguous());
    CHECK(dtype_name(tensor) == (name.ends_with("num_batches_tracked") ? "Long" : "Half"));
  }
  CHECK(parameters == 3157200);
  CHECK(buffers == 10649);

  REQUIRE(checkpoint.class_names.size() == 80);
  CHECK(checkpoint.class_names[0] == "person");
  CHECK(checkpoint.class_names[79] == "toothbrush");
  CHECK(checkpoint.strides == std::vector<double>{8, 16, 32});
  REQUIRE(checkpoint.bn_eps.has_value());
  CHECK(*checkpoint.bn_eps == 0.001);
}

TEST_CASE("checkpoint: values match the independent Python probe bit for bit") {
  if (!yq::test::have_shared_data()) return;
  const auto checkpoint = yq::read_checkpoint(yq::test::shared_file(kCheckpoint));
  const Probe probe = read_probe();
  CHECK(static_cast<std::int64_t>(checkpoint.tensors.size()) == probe.counts.at("state_dict_entries"));
  CHECK(probe.counts.at("parameter_elements") == 3157200);
  CHECK(checkpoint.strides == probe.strides);
  REQUIRE(probe.tensors.size() >= 8);
  for (const auto& expected : probe.tensors) {
    INFO("tensor " << expected.name);
    const at::Tensor& tensor = tensor_named(checkpoint.tensors, expected.name);
    CHECK(dtype_name(tensor) == probe_dtype_name(expected.dtype));
    CHECK(tensor.sizes().vec() == expected.shape);
    for (const auto& element : expected.elements) {
      INFO("element " << element.index);
      CHECK(element_bits(tensor, element.index) == element.bits);
      CHECK(tensor.reshape(-1)[element.index].item<double>() == element.value);
    }
  }
}

TEST_CASE("checkpoint: fp16 weights equal the float32 state dict exactly") {
  if (!yq::test::have_shared_data()) return;
  const fs::path state_dict_file = yq::test::shared_file(kStateDict);
  REQUIRE_MESSAGE(fs::exists(state_dict_file), state_dict_file << " is missing from the shared data");
  const auto checkpoint = yq::read_checkpoint(yq::test::shared_file(kCheckpoint));
  const auto state_dict = yq::read_checkpoint(state_dict_file);
  CHECK(state_dict.kind == "state-dict");
  CHECK(state_dict.class_names.empty());
  REQUIRE(state_dict.tensors.size() == checkpoint.tensors.size());
  for (std::size_t i = 0; i < checkpoint.tensors.size(); ++i) {
    const auto& [name, tensor] = checkpoint.tensors[i];
    INFO("tensor " << name);
    CHECK(state_dict.tensors[i].first == name);
    const at::Tensor& reference = state_dict.tensors[i].second;
    CHECK(at::equal(tensor.to(reference.scalar_type()), reference));
  }
  const auto archive = yq::read_tensor_archive(state_dict_file);
  REQUIRE(archive.size() == state_dict.tensors.size());
  CHECK(archive.front().first == state_dict.tensors.front().first);
}

TEST_CASE("checkpoint: write_tensor_archive round trip is exact and deterministic") {
  const auto dir = yq::test::fresh_temp_dir("checkpoint-archive");
  const at::Tensor matrix = at::arange(12, at::kFloat).reshape({3, 4});
  yq::NamedTensorList tensors = {
      {"half", at::linspace(-2, 2, 7).to(at::kHalf)}, {"transposed_view", matrix.t()},
      {"offset_view", matrix.slice(0, 1, 3)},         {"double_scalar", at::scalar_tensor(0.1, at::kDouble)},
      {"counter", at::scalar_tensor(7, at::kLong)},   {"bytes", at::arange(250, 256, at::kByte)},
      {"mask", at::arange(4, at::kInt).eq(2)},        {"empty", at::empty({0, 3}, at::kFloat)},
  };
  if (yq::test::have_shared_data()) {
    for (auto& entry : yq::read_checkpoint(yq::test::shared_file(kCheckpoint)).tensors) tensors.push_back(entry);
  }
  yq::write_tensor_archive(dir / "a.pt", tensors);
  yq::write_tensor_archive(dir / "b.pt", tensors);
  CHECK(yq::read_file_bytes(dir / "a.pt") == yq::read_file_bytes(dir / "b.pt"));
  CHECK(!fs::exists(dir / "a.pt.tmp"));

  const auto read_back = yq::read_tensor_archive(dir / "a.pt");
  REQUIRE(read_back.size() == tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    INFO("tensor " << tensors[i].first);
    CHECK(read_back[i].first == tensors[i].first);
    CHECK(dtype_name(read_back[i].second) == dtype_name(tensors[i].second));
    CHECK(read_back[i].second.is_contiguous());
    CHECK(at::equal(read_back[i].second, tensors[i].second));
  }
  const auto as_checkpoint = yq::read_checkpoint(dir / "a.pt");
  CHECK(as_checkpoint.kind == "state-dict");
  CHECK(as_checkpoint.tensors.size() == tensors.size());

  const std::string unwritable =
      error_message([&] { yq::write_tensor_archive(dir / "no" / "such" / "x.pt", tensors); });
  CHECK(unwritable.find("cannot write") != std::string::npos);
}

TEST_CASE("checkpoint: bad inputs give one-line errors") {
  const auto dir = yq::test::fresh_temp_dir("checkpoint-bad");

  SUBCASE("missing file") { check_one_line_error(dir / "absent.pt", "file not found"); }

  SUBCASE("random bytes") {
    std::mt19937 random(20240417);
    std::string noise(4096, '\0');
    for (char& byte : noise) byte = static_cast<char>(random() & 0xff);
    write_bytes(dir / "noise.pt", noise);
    check_one_line_error(dir / "noise.pt", "not a PyTorch zip checkpoint (truncated or corrupt)");
  }

  SUBCASE("truncated checkpoint") {
    if (!yq::test::have_shared_data()) return;
    const std::string bytes = yq::read_file_bytes(yq::test::shared_file(kCheckpoint));
    write_bytes(dir / "half.pt", bytes.substr(0, bytes.size() / 2));
    check_one_line_error(dir / "half.pt", "not a PyTorch zip checkpoint (truncated or corrupt)");
  }

  SUBCASE("legacy non-zip torch file") {
    write_bytes(dir / "legacy.pt", "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."s);
    check_one_line_error(dir / "legacy.pt", "legacy (non-zip) torch.save format is not supported");
  }

  SUBCASE("zip without data.pkl") {
    write_zip(dir / "nodata.pt", {{"notes.txt", "hello"}});
    check_one_line_error(dir / "nodata.pt", "zip has no data.pkl record");
  }

  SUBCASE("pickle root is a list") {
    // PROTO 2, EMPTY_LIST, BINPUT 0, MARK, BININT1 1, BININT1 2, APPENDS, STOP: [1, 2]
    const std::string program =
        "\x80\x02]q\x00(K\x01K\x02"
        "e."s;
    write_zip(dir / "list.pt", {{"data.pkl", program}});
    check_one_line_error(dir / "list.pt", "pickle root is a list, expected a checkpoint dict or a state dict");
    const std::string message = error_message([&] { yq::read_tensor_archive(dir / "list.pt"); });
    CHECK(message.find("expected a dict of name -> tensor") != std::string::npos);
  }

  SUBCASE("dict that is neither checkpoint nor state dict") {
    // PROTO 2, EMPTY_DICT, BINUNICODE "epoch", BININT1 1, SETITEM, STOP: {"epoch": 1}
    const std::string program =
        "\x80\x02}X\x05\x00\x00\x00"
        "epochK\x01s."s;
    write_zip(dir / "dict.pt", {{"data.pkl", program}});
    check_one_line_error(dir / "dict.pt", "entry 'epoch' is an int, not a tensor");
  }

  SUBCASE("unsupported opcode") {
    write_zip(dir / "opcode.pt", {{"data.pkl", "\x80\x02\xff."s}});
    check_one_line_error(dir / "opcode.pt", "unsupported pickle opcode 0xff at byte 2");
  }

  SUBCASE("truncated pickle") {
    // BINUNICODE announcing 16 bytes, followed by 2.
    const std::string program =
        "\x80\x02X\x10\x00\x00\x00"
        "ab"s;
    write_zip(dir / "short.pt", {{"data.pkl", program}});
    check_one_line_error(dir / "short.pt", "pickle stream truncated");
  }

  SUBCASE("storage record missing") {
    // BINPERSID ('storage', torch.FloatStorage, '0', 'cpu', 1) in a zip without data/0.
    const std::string program =
        "\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00"
        "0X\x03\x00\x00\x00"
        "cpuK\x01tQ."s;
    write_zip(dir / "nostorage.pt", {{"data.pkl", program}});
    check_one_line_error(dir / "nostorage.pt", "archive has no record nostorage/data/0");
  }
}

TEST_CASE("checkpoint: one flipped bit in any record is refused, naming the record and the tensor") {
  const auto dir = yq::test::fresh_temp_dir("checkpoint-bitflip");
  const yq::NamedTensorList tensors = {{"conv.weight", at::linspace(-1, 1, 6).to(at::kHalf)},
                                       {"conv.bias", at::arange(3, at::kFloat)},
                                       {"bn.num_batches_tracked", at::scalar_tensor(7, at::kLong)}};
  yq::write_tensor_archive(dir / "intact.pt", tensors);
  const std::string intact = yq::read_file_bytes(dir / "intact.pt");
  REQUIRE(yq::parse_checkpoint(intact).tensors.size() == tensors.size());

  int flips = 0;
  for (const RecordSpan& record : record_spans(dir / "intact.pt")) {
    INFO("record " << record.name);
    // torch's writer numbers storages in dict order: data/<i> holds tensors[i].
    const bool is_storage = record.name.starts_with("data/");
    const std::string expected =
        is_storage ? "tensor " + tensors.at(std::stoul(record.name.substr(5))).first + " is corrupt (record "
                   : "record ";
    for (std::size_t bit = 8 * record.offset; bit < 8 * (record.offset + record.size); ++bit) {
      const std::string message = error_message([&] { yq::parse_checkpoint(with_bit_flipped(intact, bit)); });
      INFO("bit " << bit << ": " << message);
      REQUIRE(message.starts_with(expected));
      REQUIRE(message.find("/" + record.name + (is_storage ? ": " : " is corrupt: ") + "its CRC-32 is 0x") !=
              std::string::npos);
      ++flips;
    }
  }
  CHECK(flips > 8 * 200);  // data.pkl alone is a few hundred bytes

  // The same through a file: one line naming the file, the record and the tensor.
  const auto spans = record_spans(dir / "intact.pt");
  const auto bias = std::find_if(spans.begin(), spans.end(), [](const RecordSpan& span) { return span.name == "data/1"; });
  REQUIRE(bias != spans.end());
  write_bytes(dir / "flipped.pt", with_bit_flipped(intact, 8 * bias->offset + 13));
  check_one_line_error(dir / "flipped.pt", "tensor conv.bias is corrupt (record archive/data/1: its CRC-32 is 0x");
  CHECK_THROWS_AS(yq::read_tensor_archive(dir / "flipped.pt"), yq::Error);
}

TEST_CASE("checkpoint: official yolov8n.pt with one flipped bit in a weight record is refused") {
  if (!yq::test::have_shared_data()) return;
  const auto dir = yq::test::fresh_temp_dir("checkpoint-bitflip-v8n");
  fs::copy_file(yq::test::shared_file(kCheckpoint), dir / "yolov8n.pt");
  fs::permissions(dir / "yolov8n.pt", fs::perms::owner_write, fs::perm_options::add);
  const std::string intact = yq::read_file_bytes(dir / "yolov8n.pt");
  std::vector<RecordSpan> storages;
  for (const RecordSpan& record : record_spans(dir / "yolov8n.pt")) {
    if (record.name.starts_with("data/") && record.size > 0) storages.push_back(record);
  }
  REQUIRE(storages.size() > 300);
  for (const RecordSpan& record : {storages.front(), storages[storages.size() / 2], storages.back()}) {
    INFO("record " << record.name);
    write_bytes(dir / "flipped.pt", with_bit_flipped(intact, 8 * (record.offset + record.size / 2) + 5));
    const std::string message = error_message([&] { yq::read_checkpoint(dir / "flipped.pt"); });
    INFO(message);
    CHECK(message.starts_with((dir / "flipped.pt").string() + ": tensor model."));
    CHECK(message.find(" is corrupt (record ") != std::string::npos);
    CHECK(message.find("/" + record.name + ": its CRC-32 is 0x") != std::string::npos);
  }
}

TEST_CASE("checkpoint: allocation limits refuse files that would expand without bound") {
  const auto dir = yq::test::fresh_temp_dir("checkpoint-limits");

  SUBCASE("a zip whose records inflate to more than 4x its size") {
    const std::string zeros(8 << 20, '\0');
    zip_error_t error;
    zip_error_init(&error);
    zip_t* archive = zip_open((dir / "bomb.pt").c_str(), ZIP_CREATE | ZIP_TRUNCATE, nullptr);
    REQUIRE(archive);
    zip_source_t* source = zip_source_buffer(archive, zeros.data(), zeros.size(), 0);
    REQUIRE(zip_file_add(archive, "archive/data.pkl", source, 0) >= 0);
    REQUIRE(zip_close(archive) == 0);
    REQUIRE(fs::file_size(dir / "bomb.pt") < zeros.size() / 100);
    check_one_line_error(dir / "bomb.pt", "zip records declare more than 4x the archive's");
  }

  SUBCASE("a storage declaring more elements than its record holds") {
    PickleWriter pickle;
    pickle.op('(').text("storage").global("torch", "FloatStorage").text("0").text("cpu").int32(0x7fffffff).op('t');
    pickle.op('Q');
    write_synthetic_archive(dir / "numel.pt", pickle.finish());
    check_one_line_error(dir / "numel.pt", "record data/0 has 24 bytes, too few for 2147483647 elements of 4 bytes");
  }

  SUBCASE("a zero-stride view of 100 M elements") {
    PickleWriter pickle;
    pickle.ordered_dict().op('(').text("w");
    pickle.global("torch._utils", "_rebuild_tensor_v2").op('(');
    pickle.op('(').text("storage").global("torch", "FloatStorage").text("0").text("cpu").small_int(6).op('t').op('Q');
    pickle.small_int(0).op('(').int32(100'000'000).op('t').op('(').small_int(0).op('t').op('\x89').ordered_dict();
    pickle.op('t').op('R').op('u');
    write_synthetic_archive(dir / "stride.pt", pickle.finish());
    check_one_line_error(dir / "stride.pt", "tensors exceed the reader's memory limit for this file");
  }

  SUBCASE("a pickle that copies one list again and again") {
    PickleWriter pickle;
    pickle.op(']').op('q').op('\0').op('(');
    for (int i = 0; i < 1000; ++i) pickle.small_int(1);
    pickle.op('e').global("builtins", "set").op('q').op('\1').op('0');
    for (int i = 0; i < 100; ++i) pickle.op('h').op('\1').op('h').op('\0').op('\x85').op('R').op('0');
    write_synthetic_archive(dir / "copies.pt", pickle.finish());
    check_one_line_error(dir / "copies.pt", "builds more than 8 values per byte");
  }

  SUBCASE("a module that is its own submodule") {
    PickleWriter pickle;
    pickle.global("nets", "Net").op(')').op('\x81').op('q').op('\0');
    pickle.op('}').op('(').text("_modules").op('}').op('(').text("self").op('h').op('\0').op('u').op('u').op('b');
    write_synthetic_archive(dir / "cycle.pt", pickle.finish());
    check_one_line_error(dir / "cycle.pt", "module tree deeper than 64 levels at 'self.self.");
  }
}
