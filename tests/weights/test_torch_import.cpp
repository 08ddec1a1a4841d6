// PyTorch checkpoints as robustprior models: every model fixture (tools/pt_model_fixtures.py:
// robustness-library, fast_adversarial, torchvision-layout and RobustBench files) imported and
// run; the engine's logits must equal PyTorch's recorded ones (float64 in PyTorch from the
// stored weights) within 1e-5 times max(1, the largest |logit|) - the engine runs in f32. The
// inferred spec must equal the fixture's JSON; options override it; bad files are refused
// with a message naming the key, the tensor or the closest name.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/core/error.h"
#include "engine/core/files.h"
#include "models/registry.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_support.h"
#include "weights/checkpoint.h"
#include "weights/torch_import.h"

namespace rp {
namespace {

const std::string kDir = std::string(RP_PT_MODEL_FIXTURES) + "/";

nlohmann::json fixture_json(const std::string& name) {
  std::ifstream in(kDir + name + ".json");
  EXPECT_TRUE(in.good()) << kDir + name + ".json";
  return nlohmann::json::parse(in);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

bool registered(const std::string& arch) {
  const auto& a = architectures();
  return std::find(a.begin(), a.end(), arch) != a.end();
}

// x[i] = ((i * 7919) % 1000) / 1000 over the flat NCHW index of a batch of 2, as float32.
Tensor fixed_input(std::int64_t size) {
  const std::int64_t n = 2 * 3 * size * size;
  std::vector<float> x(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    x[static_cast<std::size_t>(i)] =
        static_cast<float>(static_cast<double>((i * 7919) % 1000) / 1000.0);
  }
  return Tensor::from_vector(x, Shape{2, 3, size, size});
}

TorchImportOptions options_of(const nlohmann::json& j) {
  TorchImportOptions o;
  if (j.contains("options") && j["options"].contains("image_size")) {
    o.image_size = j["options"]["image_size"].get<std::int64_t>();
  }
  return o;
}

// The largest |engine - PyTorch| logit difference and the logits' scale, max(1, max |logit|).
std::pair<double, double> logit_error(const Checkpoint& ck, const nlohmann::json& j,
                                      std::int64_t size, Context& ctx = test::cpu_context()) {
  auto net = ck.load_network(ctx.device());
  net->prepare(ctx, 2);
  net->forward(ctx, fixed_input(size).to(ctx.device()), ForwardOptions{});
  const std::vector<float> got = net->logits().to_vector<float>();
  const auto& want = j.at("logits");
  const std::size_t classes = want[0].size();
  EXPECT_EQ(want.size(), 2u);
  if (got.size() != 2 * classes) {
    ADD_FAILURE() << got.size() << " logits for " << classes << " classes";
    return {1e30, 1.0};
  }
  double scale = 1.0;
  for (const auto& row : want) {
    for (const auto& v : row) scale = std::max(scale, std::fabs(v.get<double>()));
  }
  double worst = 0;
  for (std::size_t n = 0; n < 2; ++n) {
    for (std::size_t c = 0; c < classes; ++c) {
      const double d =
          std::fabs(static_cast<double>(got[n * classes + c]) - want[n][c].get<double>());
      worst = std::max(worst, d);
    }
  }
  // Not a vacuous comparison: the logits differ between classes and examples.
  EXPECT_GT(std::fabs(want[0][0].get<double>() - want[1][0].get<double>()) +
                std::fabs(want[0][0].get<double>() - want[0][1].get<double>()),
            1e-3);
  return {worst, scale};
}

void expect_logits(const Checkpoint& ck, const nlohmann::json& j, std::int64_t size) {
  const auto [worst, scale] = logit_error(ck, j, size);
  EXPECT_LE(worst, 1e-5 * scale) << "largest |engine - PyTorch| logit difference, logit scale "
                                 << scale;
}

class GoodFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(GoodFixture, InfersTheSpecAndGivesPyTorchsLogits) {
  const std::string name = GetParam();
  const nlohmann::json j = fixture_json(name);
  const std::string arch = j.at("arch").get<std::string>();
  ASSERT_TRUE(registered(arch)) << arch;
  const std::string path = kDir + name + ".pt";

  // Default options: the inference alone (image size at the family's default).
  const Checkpoint plain = Checkpoint::open(path);
  const CheckpointInfo& info = plain.info();
  EXPECT_EQ(info.spec.arch, arch);
  EXPECT_DOUBLE_EQ(info.spec.width, j.at("width").get<double>());
  EXPECT_EQ(info.spec.num_classes, j.at("num_classes").get<std::int64_t>());
  EXPECT_EQ(info.dataset, j.at("dataset").get<std::string>());
  EXPECT_EQ(static_cast<std::int64_t>(info.class_names.size()), info.spec.num_classes);
  EXPECT_EQ(info.epoch, j.at("epoch").get<std::int64_t>());
  EXPECT_EQ(info.spec.image_h, j.at("image_size").get<std::int64_t>());
  EXPECT_EQ(info.spec.image_w, j.at("image_size").get<std::int64_t>());
  const auto mean = j.at("mean").get<std::vector<double>>();
  const auto std = j.at("std").get<std::vector<double>>();
  ASSERT_EQ(info.spec.mean.size(), 3u);
  ASSERT_EQ(info.spec.std.size(), 3u);
  for (std::size_t c = 0; c < 3; ++c) {
    // The file's normalizer is stored in f32: equal to the constants within f32 rounding.
    EXPECT_NEAR(info.spec.mean[c], mean[c], 1e-7);
    EXPECT_NEAR(info.spec.std[c], std[c], 1e-7);
  }
  EXPECT_NE(plain.source_format(), "safetensors");

  const TorchImportOptions opt = options_of(j);
  if (opt.image_size > 0) {
    const Checkpoint sized = Checkpoint::open_torch(path, opt);
    EXPECT_EQ(sized.info().spec.image_h, opt.image_size);
    expect_logits(sized, j, opt.image_size);
  } else {
    expect_logits(plain, j, info.spec.image_h);
  }
}

// The same on the GPU (cuDNN convolutions, TF32 off): within 1e-4 times the logit scale, as
// cuDNN's algorithms sum in other orders than the CPU reference.
TEST_P(GoodFixture, GivesPyTorchsLogitsOnTheGpu) {
  RP_SKIP_WITHOUT_GPU();
  const std::string name = GetParam();
  const nlohmann::json j = fixture_json(name);
  const TorchImportOptions opt = options_of(j);
  const Checkpoint ck = Checkpoint::open_torch(kDir + name + ".pt", opt);
  const auto [worst, scale] = logit_error(ck, j, ck.info().spec.image_h, test::gpu_context());
  EXPECT_LE(worst, 1e-4 * scale) << "largest |engine - PyTorch| logit difference on the GPU";
}

INSTANTIATE_TEST_SUITE_P(PtModels, GoodFixture,
                         ::testing::Values("robustness_resnet50_legacy", "robustness_resnet18_zip",
                                           "fast_preact_resnet18", "torchvision_resnet18",
                                           "torchvision_resnet50", "robustbench_wrn28_fp16"));

// The comparison can fail: a model run with another normalization, or with one BN statistic
// nudged, is far outside the tolerance.
TEST(TorchImport, LogitComparisonDetectsADifferentModel) {
  const nlohmann::json j = fixture_json("fast_preact_resnet18");
  TorchImportOptions o;
  o.normalization = "none";
  const auto [worst, scale] =
      logit_error(Checkpoint::open_torch(kDir + "fast_preact_resnet18.pt", o), j, 32);
  EXPECT_GT(worst, 1e-3 * scale);
  TorchImport imp = import_torch(TorchFile::open(kDir + "fast_preact_resnet18.pt"));
  imp.tensors.at("layer1.0.bn1.running_mean").values[0] += 0.5f;
  const auto [nudged, s2] = logit_error(Checkpoint::from_import(imp), j, 32);
  EXPECT_GT(nudged, 1e-5 * s2);
}

TEST(TorchImport, StateDictLocationAndNotes) {
  const TorchImport imp =
      import_torch(TorchFile::open(kDir + "robustness_resnet18_zip.pt"), TorchImportOptions{});
  EXPECT_EQ(imp.state_dict_prefix, "model.module.model.");
  EXPECT_EQ(imp.source_format, "zip");
  EXPECT_EQ(imp.info.class_names.front(), "airplane");
  EXPECT_EQ(imp.tensors.count("conv1.weight"), 1u);
  EXPECT_EQ(imp.tensors.count("model.module.model.conv1.weight"), 0u);
  EXPECT_FALSE(imp.batches_tracked.empty());
  EXPECT_EQ(TorchFile::open(kDir + "robustness_resnet50_legacy.pt").format(),
            std::string("legacy"));
  EXPECT_EQ(import_torch(TorchFile::open(kDir + "fast_preact_resnet18.pt")).state_dict_prefix, "");
}

TEST(TorchImport, OptionsOverrideTheInference) {
  const std::string path = kDir + "fast_preact_resnet18.pt";
  TorchImportOptions o;
  o.normalization = "0.5,0.25,0.125/2,4,8";
  o.dataset = "mine";
  o.image_size = 40;
  const CheckpointInfo info = Checkpoint::open_torch(path, o).info();
  EXPECT_EQ(info.spec.mean, (std::vector<double>{0.5, 0.25, 0.125}));
  EXPECT_EQ(info.spec.std, (std::vector<double>{2, 4, 8}));
  EXPECT_EQ(info.dataset, "mine");
  EXPECT_EQ(info.class_names.front(), "class_0");
  EXPECT_EQ(info.spec.image_h, 40);
  for (const char* named : {"cifar10", "imagenet", "none"}) {
    o.normalization = named;
    std::vector<double> m, s;
    parse_normalization(named, m, s);
    EXPECT_EQ(Checkpoint::open_torch(path, o).info().spec.std, s) << named;
  }
  // A robustness file's own normalizer gives way to the option too.
  TorchImportOptions imagenet;
  imagenet.normalization = "imagenet";
  EXPECT_EQ(Checkpoint::open_torch(kDir + "robustness_resnet18_zip.pt", imagenet).info().spec.mean,
            (std::vector<double>{0.485, 0.456, 0.406}));

  // --arch forced: the same architecture loads; another is refused naming the keys.
  TorchImportOptions forced;
  forced.arch = "preact_resnet18";
  EXPECT_EQ(Checkpoint::open_torch(path, forced).info().spec.arch, "preact_resnet18");
  forced.arch = "resnet18";
  const std::string e = error_of([&] { Checkpoint::open_torch(path, forced); });
  EXPECT_NE(e.find("does not fit a resnet18"), std::string::npos) << e;
  EXPECT_NE(e.find("lacks 'bn1.weight'"), std::string::npos) << e;
  forced.arch = "resnet19";
  EXPECT_NE(error_of([&] { Checkpoint::open_torch(path, forced); }).find("unknown architecture"),
            std::string::npos);

  for (const char* bad : {"imagenet2", "1,2/3,4,5", "1,2,3/4,0,5", "a,b,c/1,1,1", "1,2,3"}) {
    std::vector<double> m, s;
    EXPECT_THROW(parse_normalization(bad, m, s), Error) << bad;
  }
  TorchImportOptions wrong;
  wrong.dataset = "restricted_imagenet";  // 9 classes, the model has 10
  EXPECT_NE(error_of([&] { Checkpoint::open_torch(path, wrong); }).find("has 9 classes"),
            std::string::npos);
}

// The inference from keys and shapes alone, on every architecture of this build: its own
// parameter names (as PyTorch's state dict holds them) are recognised as itself.
TEST(TorchImport, InfersEveryArchitectureFromItsOwnNames) {
  for (const std::string& arch : architectures()) {
    NetworkSpec spec;
    spec.arch = arch;
    spec.width = 0.125;
    spec.num_classes = 7;
    auto net = make_network(spec, Device::cpu(), 0);
    std::map<std::string, std::vector<std::int64_t>> shapes;
    for (const ParamEntry& e : net->parameters().entries()) {
      shapes[e.name] = std::vector<std::int64_t>(e.shape.begin(), e.shape.end());
    }
    const TorchArchitecture a = infer_torch_architecture(shapes);
    EXPECT_EQ(a.arch, arch) << a.why;
    EXPECT_DOUBLE_EQ(a.width, 0.125) << arch;
    EXPECT_EQ(a.num_classes, 7) << arch;
  }
  const TorchArchitecture none = infer_torch_architecture({{"conv1.weight", {8, 3, 5, 5}}});
  EXPECT_TRUE(none.arch.empty());
  EXPECT_NE(none.why.find("no known layout"), std::string::npos) << none.why;
}

class BadFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(BadFixture, RefusedNamingTheCulprit) {
  const std::string name = GetParam();
  const nlohmann::json j = fixture_json(name);
  const std::string path = kDir + name + ".pt";
  const std::string e = error_of([&] { Checkpoint::open(path); });
  EXPECT_NE(e.find(path), std::string::npos) << e;
  for (const auto& part : j.at("error")) {
    EXPECT_NE(e.find(part.get<std::string>()), std::string::npos)
        << "'" << part.get<std::string>() << "' not in: " << e;
  }
}

INSTANTIATE_TEST_SUITE_P(PtModels, BadFixture,
                         ::testing::Values("bad_renamed_key", "bad_extra_key", "bad_nan_weight",
                                           "bad_attacker_differs"));

TEST(TorchImport, DetectsTorchFilesByTheirFirstBytes) {
  test::TempDir dir;
  EXPECT_TRUE(is_torch_file(kDir + "robustness_resnet18_zip.pt"));
  EXPECT_TRUE(is_torch_file(kDir + "robustness_resnet50_legacy.pt"));
  EXPECT_FALSE(is_torch_file(dir.file("missing.pt")));
  // A safetensors header of 640 bytes starts 0x80 0x02 like a pickle: '{' at byte 8 tells.
  std::string st("\x80\x02\0\0\0\0\0\0{", 9);
  std::ofstream(dir.file("a.safetensors"), std::ios::binary) << st;
  EXPECT_FALSE(is_torch_file(dir.file("a.safetensors")));
  std::ofstream(dir.file("b.pt"), std::ios::binary) << std::string("\x80\x02\x8a\x0a", 4);
  EXPECT_TRUE(is_torch_file(dir.file("b.pt")));
  // A truncated torch file is refused by the reader, naming the file.
  const std::string bytes = read_file(kDir + "robustness_resnet18_zip.pt");
  std::ofstream(dir.file("cut.pt"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const std::string e = error_of([&] { Checkpoint::open(dir.file("cut.pt")); });
  EXPECT_NE(e.find("cut.pt"), std::string::npos) << e;
}

// convert's file: a normal robustprior checkpoint that loads to the same network bit for bit.
TEST(TorchImport, SavedImportReopensAsTheSameCheckpoint) {
  test::TempDir dir;
  const TorchImport imp = import_torch(TorchFile::open(kDir + "robustness_resnet18_zip.pt"));
  save_imported_checkpoint(dir.file("out.safetensors"), imp);
  const Checkpoint saved = Checkpoint::open(dir.file("out.safetensors"));
  const Checkpoint direct = Checkpoint::from_import(imp);
  EXPECT_EQ(saved.source_format(), "safetensors");
  EXPECT_EQ(saved.info().spec.arch, "resnet18");
  EXPECT_EQ(saved.info().epoch, 7);
  EXPECT_EQ(saved.info().spec.mean, direct.info().spec.mean);
  auto a = saved.load_network(Device::cpu());
  auto b = direct.load_network(Device::cpu());
  EXPECT_EQ(a->parameters().flat_params().to_vector<float>(),
            b->parameters().flat_params().to_vector<float>());
  EXPECT_EQ(a->parameters().flat_buffers().to_vector<float>(),
            b->parameters().flat_buffers().to_vector<float>());
  EXPECT_GT(a->parameters().batches_tracked, 0);
}

}  // namespace
}  // namespace rp
