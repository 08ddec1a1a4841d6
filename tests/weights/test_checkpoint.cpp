// safetensors and checkpoints: round trips bit for bit, and every kind of bad file refused
// with a message naming the field or tensor.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <string>

#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/ops/elementwise.h"
#include "models/registry.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_support.h"
#include "weights/checkpoint.h"
#include "weights/safetensors.h"

namespace rp {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// A file from a header given as text and a data section of `data_bytes` zero bytes.
std::string raw_file(const std::string& header, std::size_t data_bytes, std::uint64_t claimed = 0) {
  const std::uint64_t n = claimed ? claimed : header.size();
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out + header + std::string(data_bytes, '\0');
}

TEST(Safetensors, RoundTripAndAlignment) {
  SafetensorsWriter w;
  const std::vector<float> a{1.5f, -2.f, 3.f, 4.25f, 5.f, 6.f};
  const std::vector<std::int64_t> b{7};
  w.add("a", "F32", {2, 3}, a.data(), a.size() * 4);
  w.add("b", "I64", {}, b.data(), 8);
  w.set_metadata("note", "hello");
  const std::string bytes = w.serialize();
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u) << "data must start 8-byte aligned";
  const SafetensorsFile f = SafetensorsFile::parse(bytes, "mem");
  EXPECT_EQ(f.metadata().at("note"), "hello");
  EXPECT_EQ(f.tensor("a").shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(f.data("a"), a.data(), 24), 0);
  EXPECT_EQ(f.tensor("b").shape.size(), 0u);
  EXPECT_THROW(w.add("a", "F32", {1}, a.data(), 4), Error);  // duplicate
  EXPECT_THROW(w.add("c", "F32", {2}, a.data(), 4), Error);  // wrong byte count
  EXPECT_THROW(w.add("d", "Q8", {1}, a.data(), 1), Error);   // unknown dtype
}

// A file written by the reference implementation (Python safetensors 0.7, save() of
// {"weight": arange(6).reshape(2, 3) * 0.5 f32, "count": 7 i64 scalar, "bytes": [1, 2, 255]
// u8} with metadata {"source": "reference"}).
TEST(Safetensors, ReadsTheReferenceImplementationsFiles) {
  const unsigned char reference[] = {
      0xd8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7b, 0x22, 0x5f, 0x5f, 0x6d, 0x65, 0x74,
      0x61, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x5f, 0x22, 0x3a, 0x7b, 0x22, 0x73, 0x6f, 0x75, 0x72,
      0x63, 0x65, 0x22, 0x3a, 0x22, 0x72, 0x65, 0x66, 0x65, 0x72, 0x65, 0x6e, 0x63, 0x65, 0x22,
      0x7d, 0x2c, 0x22, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x74, 0x79,
      0x70, 0x65, 0x22, 0x3a, 0x22, 0x49, 0x36, 0x34, 0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70,
      0x65, 0x22, 0x3a, 0x5b, 0x5d, 0x2c, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66, 0x66,
      0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x30, 0x2c, 0x38, 0x5d, 0x7d, 0x2c, 0x22, 0x77,
      0x65, 0x69, 0x67, 0x68, 0x74, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22,
      0x3a, 0x22, 0x46, 0x33, 0x32, 0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70, 0x65, 0x22, 0x3a,
      0x5b, 0x32, 0x2c, 0x33, 0x5d, 0x2c, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66, 0x66,
      0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x38, 0x2c, 0x33, 0x32, 0x5d, 0x7d, 0x2c, 0x22,
      0x62, 0x79, 0x74, 0x65, 0x73, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22,
      0x3a, 0x22, 0x55, 0x38, 0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70, 0x65, 0x22, 0x3a, 0x5b,
      0x33, 0x5d, 0x2c, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66, 0x66, 0x73, 0x65, 0x74,
      0x73, 0x22, 0x3a, 0x5b, 0x33, 0x32, 0x2c, 0x33, 0x35, 0x5d, 0x7d, 0x7d, 0x20, 0x20, 0x07,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f,
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x20,
      0x40, 0x01, 0x02, 0xff};
  const SafetensorsFile f = SafetensorsFile::parse(
      std::string(reinterpret_cast<const char*>(reference), sizeof reference), "reference");
  EXPECT_EQ(f.metadata().at("source"), "reference");
  EXPECT_EQ(f.tensor("weight").dtype, "F32");
  EXPECT_EQ(f.tensor("weight").shape, (std::vector<std::int64_t>{2, 3}));
  float w[6];
  std::memcpy(w, f.data("weight"), sizeof w);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(w[i], 0.5f * static_cast<float>(i));
  std::int64_t count = 0;
  std::memcpy(&count, f.data("count"), 8);
  EXPECT_EQ(count, 7);
  EXPECT_TRUE(f.tensor("count").shape.empty());
  EXPECT_EQ(f.data("bytes")[2], 255);
}

TEST(Safetensors, RefusesBadFiles) {
  const std::string ok = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_NO_THROW(SafetensorsFile::parse(raw_file(ok, 8), "ok"));
  const std::pair<std::string, std::string> cases[] = {
      {std::string("abc"), "truncated: 3 bytes"},
      {raw_file(ok, 8, 200'000'000), "oversized header"},
      {raw_file(ok, 0, static_cast<std::uint64_t>(ok.size()) + 50), "truncated: the header claims"},
      {raw_file("{not json", 8), "corrupt header"},
      {raw_file(ok, 4), "truncated: tensor 't' ends at byte 8"},
      {raw_file(ok, 12), "4 bytes after the last tensor"},
      {raw_file(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "needs 12"},
      {raw_file(R"({"t":{"dtype":"X9","shape":[2],"data_offsets":[0,8]}})", 8),
       "unknown dtype 'X9'"},
      {raw_file(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "bad extent"},
      {raw_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                R"("u":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                8),
       "overlapping"},
      {raw_file(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8), "leaving a hole"},
      {raw_file(R"({"__metadata__":{"k":3},"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                8),
       "metadata 'k' must be a string"},
      {raw_file(R"({"t":{"dtype":"F32","shape":[2]}})", 8),
       "expected dtype, shape and data_offsets"},
  };
  for (const auto& [bytes, expected] : cases) {
    const std::string e = error_of([&] { SafetensorsFile::parse(bytes, "bad.safetensors"); });
    EXPECT_NE(e.find(expected), std::string::npos) << "expected '" << expected << "', got: " << e;
    EXPECT_NE(e.find("bad.safetensors"), std::string::npos) << e;
  }
}

// Files built to hurt the reader: each is refused with a message, in bounded time and memory,
// and nothing recurses once per level of the input.
TEST(Safetensors, RefusesHostileHeaders) {
  const std::string deep(100'000, '[');
  const std::string deep_close(100'000, ']');
  const std::pair<std::string, std::string> cases[] = {
      {raw_file(R"({"__metadata__":{"k":)" + deep + deep_close + "}}", 0), "nested 100002 levels"},
      {raw_file(
           R"({"t":{"dtype":"F32","shape":)" + deep + deep_close + R"(,"data_offsets":[0,0]}})", 0),
       "nested 100002 levels"},
      // 2^62 F32 values in 0 bytes: the byte count would wrap to 0.
      {raw_file(R"({"t":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})", 0),
       "overflow a 64-bit byte count"},
      {raw_file(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0),
       "shape overflows"},
      {raw_file(R"({"__metadata__":{"k":[1,2,3]}})", 0), "found an array of 3 values"},
  };
  for (const auto& [bytes, expected] : cases) {
    const std::string e = error_of([&] { SafetensorsFile::parse(bytes, "bad.safetensors"); });
    EXPECT_NE(e.find(expected), std::string::npos)
        << "expected '" << expected << "', got: " << e.substr(0, 300);
    EXPECT_LT(e.size(), 400u) << "the message quotes the input whole";
  }
}

TEST(Safetensors, ReadsOnlyRegularFilesAndTheHeaderFirst) {
  EXPECT_NE(error_of([] { SafetensorsFile::read("/dev/zero"); }).find("not a regular file"),
            std::string::npos);
  test::TempDir dir;
  EXPECT_NE(error_of([&] { SafetensorsFile::read(dir.path()); }).find("a directory"),
            std::string::npos);
  // A header length past the end is refused from the first 8 bytes.
  const std::string path = dir.file("claims.safetensors");
  write_file_atomic(path, raw_file("{}", 0, std::uint64_t{1} << 40));
  EXPECT_NE(error_of([&] { SafetensorsFile::read(path); }).find("oversized header"),
            std::string::npos);
}

TEST(Safetensors, TheWriterRefusesWhatTheReaderWould) {
  SafetensorsWriter w;
  w.set_metadata("config", std::string(100'000'001, 'x'));
  test::TempDir dir;
  const std::string path = dir.file("big.safetensors");
  EXPECT_NE(error_of([&] { w.write(path); }).find("over the 100000000 a reader accepts"),
            std::string::npos);
  EXPECT_FALSE(std::ifstream(path).good()) << "nothing may be written";
}

NetworkSpec tiny(const std::string& arch) {
  NetworkSpec s;
  s.arch = arch;
  s.width = 1.0 / 16;
  s.num_classes = 4;
  s.image_h = s.image_w = 8;
  s.mean = {0.1, 0.2, 0.3};
  s.std = {0.4, 0.5, 0.6};
  return s;
}

CheckpointInfo info_for(const NetworkSpec& s) {
  CheckpointInfo info;
  info.spec = s;
  info.dataset = "synthetic";
  info.class_names = {"a", "b", "c", "d"};
  info.epoch = 7;
  info.steps = 700;
  info.best_test_accuracy = 0.875;
  info.seed = 99;
  info.config = nlohmann::json{{"lr", 0.1}, {"arch", s.arch}};
  return info;
}

// A network whose every parameter, buffer and step count differs from a fresh one.
std::unique_ptr<Network> trained(const NetworkSpec& s) {
  auto net = make_network(s, Device::cpu(), 5);
  ParameterStore& p = net->parameters();
  p.flat_params().copy_from(test::random_tensor(p.flat_params().shape(), DType::F32, 6));
  p.flat_buffers().copy_from(test::random_tensor(p.flat_buffers().shape(), DType::F32, 7, 0.1, 2));
  p.batches_tracked = 1234;
  return net;
}

TEST(Checkpoint, RoundTripIsBitExact) {
  test::TempDir dir;
  const NetworkSpec s = tiny("preact_resnet18");
  auto net = trained(s);
  Tensor momentum = test::random_tensor(net->parameters().flat_params().shape(), DType::F32, 8);
  save_checkpoint(dir.file("c.safetensors"), *net, momentum, info_for(s));
  const Checkpoint ck = Checkpoint::open(dir.file("c.safetensors"));
  const CheckpointInfo& info = ck.info();
  EXPECT_EQ(info.spec.arch, s.arch);
  EXPECT_EQ(info.spec.width, s.width);
  EXPECT_EQ(info.spec.num_classes, 4);
  EXPECT_EQ(info.spec.image_h, 8);
  EXPECT_EQ(info.spec.mean, s.mean);
  EXPECT_EQ(info.class_names, info_for(s).class_names);
  EXPECT_EQ(info.epoch, 7);
  EXPECT_EQ(info.steps, 700);
  EXPECT_EQ(info.best_test_accuracy, 0.875);
  EXPECT_EQ(info.seed, 99u);
  EXPECT_EQ(info.config, info_for(s).config);
  auto back = ck.load_network(Device::cpu());
  test::expect_equal_exact(back->parameters().flat_params(), net->parameters().flat_params(),
                           "params");
  test::expect_equal_exact(back->parameters().flat_buffers(), net->parameters().flat_buffers(),
                           "buffers");
  EXPECT_EQ(back->parameters().batches_tracked, 1234);
  Tensor m2 = test::poisoned(momentum.shape(), DType::F32);
  ck.load_momentum(m2);
  test::expect_equal_exact(m2, momentum, "momentum");
  // A double network loads the same values, converted.
  NetworkSpec s64 = s;
  s64.dtype = DType::F64;
  auto net64 = make_network(s64, Device::cpu(), 0);
  ck.load_into(*net64);
  test::expect_close(net64->parameters().flat_params(), net->parameters().flat_params(), 0, 0,
                     "f64");
}

// Every architecture of the zoo saves and loads bit for bit under its own names, in f32 and
// f64 (the dtype read back from the file).
TEST(Checkpoint, EveryArchitectureRoundTripsInItsDtype) {
  test::TempDir dir;
  for (const std::string& arch : architectures()) {
    for (DType dt : {DType::F32, DType::F64}) {
      NetworkSpec s = tiny(arch);
      s.dtype = dt;
      auto net = make_network(s, Device::cpu(), 5);
      ParameterStore& p = net->parameters();
      p.flat_params().copy_from(test::random_tensor(p.flat_params().shape(), dt, 6));
      p.flat_buffers().copy_from(test::random_tensor(p.flat_buffers().shape(), dt, 7, 0.1, 2));
      const std::string path = dir.file(arch + dtype_name(dt) + ".safetensors");
      save_checkpoint(path, *net, Tensor(), info_for(s));
      const Checkpoint ck = Checkpoint::open(path);
      EXPECT_EQ(ck.info().spec.dtype, dt) << arch;
      auto back = ck.load_network(Device::cpu());
      test::expect_equal_exact(back->parameters().flat_params(), p.flat_params(), arch);
      test::expect_equal_exact(back->parameters().flat_buffers(), p.flat_buffers(), arch);
    }
  }
}

TEST(Checkpoint, RefusesAnotherArchitectureAndBadTensors) {
  test::TempDir dir;
  const std::string path = dir.file("r18.safetensors");
  auto r18 = trained(tiny("resnet18"));
  save_checkpoint(path, *r18, Tensor(), info_for(tiny("resnet18")));
  const Checkpoint ck = Checkpoint::open(path);
  EXPECT_FALSE(ck.has_momentum());
  EXPECT_NE(error_of([&] { ck.load_momentum(Tensor::zeros(Shape{1})); }).find("no optimizer state"),
            std::string::npos);
  auto pre = make_network(tiny("preact_resnet18"), Device::cpu(), 0);
  const std::string e = error_of([&] { ck.load_into(*pre); });
  EXPECT_NE(e.find("holds a resnet18"), std::string::npos) << e;
  EXPECT_NE(e.find("network is a preact_resnet18"), std::string::npos) << e;
  NetworkSpec wider = tiny("resnet18");
  wider.width = 1.0 / 8;
  auto w = make_network(wider, Device::cpu(), 0);
  EXPECT_NE(error_of([&] { ck.load_into(*w); }).find("width"), std::string::npos);

  // Re-write the file with one tensor's shape changed, one missing, one extra.
  const SafetensorsFile f = SafetensorsFile::read(path);
  auto rewrite = [&](const std::string& skip, const std::string& reshape, bool extra) {
    SafetensorsWriter out;
    for (const auto& [name, t] : f.tensors()) {
      if (name == skip) continue;
      std::vector<std::int64_t> shape = t.shape;
      std::size_t bytes = t.end - t.begin;
      if (name == reshape) {
        shape = {static_cast<std::int64_t>(bytes / 4)};  // flattened: same bytes, other shape
      }
      out.add(name, t.dtype, shape, f.data(name), bytes);
    }
    if (extra) {
      const float v = 1;
      out.add("layer9.0.conv1.weight", "F32", {1}, &v, 4);
    }
    for (const auto& [k, v] : f.metadata()) out.set_metadata(k, v);
    const std::string p = dir.file("edited.safetensors");
    out.write(p);
    return p;
  };
  auto fresh = [] { return make_network(tiny("resnet18"), Device::cpu(), 0); };
  std::string p = rewrite("", "layer1.0.conv1.weight", false);
  EXPECT_NE(error_of([&] {
              Checkpoint::open(p).load_into(*fresh());
            }).find("tensor 'layer1.0.conv1.weight': expected shape [4,4,3,3], found [144]"),
            std::string::npos);
  p = rewrite("layer2.0.bn1.running_var", "", false);
  EXPECT_NE(error_of([&] {
              Checkpoint::open(p).load_into(*fresh());
            }).find("lacks tensor 'layer2.0.bn1.running_var'"),
            std::string::npos);
  p = rewrite("", "", true);
  EXPECT_NE(error_of([&] {
              Checkpoint::open(p).load_into(*fresh());
            }).find("holds tensor 'layer9.0.conv1.weight'"),
            std::string::npos);
}

TEST(Checkpoint, RefusesBadMetadataTruncationAndForeignFiles) {
  test::TempDir dir;
  const std::string path = dir.file("c.safetensors");
  auto net = trained(tiny("resnet18"));
  save_checkpoint(path, *net, Tensor(), info_for(tiny("resnet18")));
  const std::string bytes = read_file(path);
  // Truncated by a few bytes: the last tensor runs past the end.
  write_file_atomic(dir.file("cut.safetensors"), bytes.substr(0, bytes.size() - 3));
  EXPECT_NE(error_of([&] { Checkpoint::open(dir.file("cut.safetensors")); }).find("truncated"),
            std::string::npos);
  // Metadata edited: width is not a number.
  const SafetensorsFile f = SafetensorsFile::read(path);
  auto with_meta = [&](const std::string& key, const std::string& value) {
    SafetensorsWriter out;
    for (const auto& [name, t] : f.tensors())
      out.add(name, t.dtype, t.shape, f.data(name), t.end - t.begin);
    for (const auto& [k, v] : f.metadata()) out.set_metadata(k, k == key ? value : v);
    out.write(dir.file("meta.safetensors"));
    return dir.file("meta.safetensors");
  };
  EXPECT_NE(error_of([&] { Checkpoint::open(with_meta("width", "abc")); }).find("metadata 'width'"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { Checkpoint::open(with_meta("num_classes", "7")); }).find("4 class names"),
      std::string::npos);
  EXPECT_NE(error_of([&] {
              Checkpoint::open(with_meta("format", "other"));
            }).find("not a robustprior checkpoint"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              Checkpoint::open(with_meta("arch", "resnet19")).load_network(Device::cpu());
            }).find("describes no buildable model"),
            std::string::npos);
  // A metadata width far beyond memory over a tiny model's tensors: refused by the first
  // tensor whose shape differs, before a network of that size is built (building it would
  // fail on memory instead).
  const std::string huge = with_meta("width", "64");
  EXPECT_NE(error_of([&] {
              Checkpoint::open(huge).load_network(Device::cpu());
            }).find("tensor 'conv1.weight': expected shape [4096,3,3,3], found [4,3,3,3]"),
            std::string::npos);
  EXPECT_NE(error_of([] { Checkpoint::open("/no/such.safetensors"); }).find("/no/such.safetensors"),
            std::string::npos);
}

}  // namespace
}  // namespace rp
