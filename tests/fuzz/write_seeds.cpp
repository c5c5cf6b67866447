// Writes the seed corpus of every fuzz target into <out>/<target>/: small
// files made by yq-hw's own writers (tensor archives, PNG, JPEG, BMP), the
// data.pkl of each archive, example configs; then for each file given after
// <out>: the data.pkl of a checkpoint (e.g. ../shared/models/yolov8n/yolov8n.pt)
// or a compact copy of a stage_6 quant_model.json (half the bytes to mutate).
//   write_seeds <out> [checkpoint.pt | quant_model.json ...]
#include <ATen/ATen.h>
#include <stb_image_write.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "compiler/io/checkpoint.hpp"
#include "compiler/io/image.hpp"
#include "compiler/io/zip_archive.hpp"
#include "compiler/util/files.hpp"

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {

void write(const fs::path& file, const std::string& bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << bytes;
}

// data.pkl of a torch.save zip, whatever its top folder is called.
std::string pickle_program(const fs::path& checkpoint) {
  const yq::ZipArchive zip(yq::read_file_bytes(checkpoint));
  for (const std::string& name : zip.record_names()) {
    if (name.ends_with("/data.pkl")) return zip.read_record(name).bytes;
  }
  return {};
}

void write_archives(const fs::path& out) {
  const yq::NamedTensorList small = {{"model.0.conv.weight", at::linspace(-1, 1, 12).to(at::kHalf).reshape({2, 2, 3})},
                                     {"model.0.bn.running_var", at::arange(2, at::kFloat)},
                                     {"model.0.bn.num_batches_tracked", at::scalar_tensor(3, at::kLong)},
                                     {"view", at::arange(6, at::kInt).reshape({2, 3}).t()}};
  yq::write_tensor_archive(out / "checkpoint_zip" / "state_dict.pt", small);
  write(out / "checkpoint_pickle" / "state_dict.pkl", pickle_program(out / "checkpoint_zip" / "state_dict.pt"));
}

// The bytes an stb_image_write "*_to_func" call produces.
template <typename Encode>
std::string encoded(Encode encode) {
  std::string bytes;
  encode([](void* context, void* data, int size) { static_cast<std::string*>(context)->append(static_cast<const char*>(data), size); },
         &bytes);
  return bytes;
}

void write_images(const fs::path& out) {
  yq::RgbImage image{7, 5, {}};
  for (int i = 0; i < 7 * 5 * 3; ++i) image.pixels.push_back(static_cast<std::uint8_t>(i * 11));
  const void* pixels = image.pixels.data();
  yq::write_png(out / "image" / "gradient.png", image);
  write(out / "image" / "gradient.bmp",
        encoded([&](stbi_write_func* f, void* c) { return stbi_write_bmp_to_func(f, c, 7, 5, 3, pixels); }));
  write(out / "image" / "gradient.jpg",
        encoded([&](stbi_write_func* f, void* c) { return stbi_write_jpg_to_func(f, c, 7, 5, 3, pixels, 90); }));
  write(out / "image" / "gray.png",
        encoded([&](stbi_write_func* f, void* c) { return stbi_write_png_to_func(f, c, 7, 5, 1, pixels, 7); }));
}

void write_configs(const fs::path& out) {
  write(out / "quant_config" / "defaults.toml",
        "wbits = 8\nabits = 8\ncalibration = \"mse\"\npercentile = 99.99\nper_channel = true\nscales = \"pow2\"\n"
        "mult_bits = 16\nhead = \"int\"\nconcat_scales = \"shared\"\n");
  write(out / "quant_config" / "mixed.toml",
        "[[override]]\nlayers = \"conv0|conv1|c2f2\\\\.cv[12]\"   # the stem\nabits = 16\n\n"
        "[[override]]\nlayers = \"head.*\"\nwbits = 4\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: write_seeds <out> [checkpoint.pt ...]\n");
    return 2;
  }
  const fs::path out = argv[1];
  for (const char* target : {"checkpoint_zip", "checkpoint_pickle", "image", "quant_config", "quant_model_json"}) {
    fs::create_directories(out / target);
  }
  write_archives(out);
  write_images(out);
  write_configs(out);
  for (int i = 2; i < argc; ++i) {
    const fs::path file = argv[i];
    if (file.extension() == ".json") {
      write(out / "quant_model_json" / file.filename(), yq::read_json_file(file).dump());
    } else {
      write(out / "checkpoint_pickle" / (file.stem().string() + ".pkl"), pickle_program(file));
    }
  }
  return 0;
}
