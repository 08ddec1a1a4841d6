// PyTorch checkpoints read without running pickle code: every fixture written by
// tools/make_pt_fixtures.py matches what PyTorch saw (names, dtypes, shapes, strides, values
// bit for bit), and hostile or broken files are refused with a message - or, for calls of
// arbitrary globals, kept opaque and never executed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/files.h"
#include "tests/support/temp_dir.h"
#include "weights/torch_file.h"
#include "weights/zip_reader.h"

namespace rp {
namespace {

const std::string kFixtures = RP_PT_FIXTURES;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::vector<std::uint8_t> to_bytes(const std::string& s) {
  return std::vector<std::uint8_t>(s.begin(), s.end());
}

std::vector<std::uint8_t> fixture_bytes(const std::string& name) {
  return to_bytes(read_file(kFixtures + "/" + name + ".pt"));
}

// Fixtures ------------------------------------------------------------------------------------

const char* const kFixtureNames[] = {
    "state_dict_zip",        "state_dict_legacy",        "state_dict_legacy_dill",
    "state_dict_zip_proto4", "state_dict_legacy_proto5", "training_zip",
    "training_legacy_dill",  "function_legacy_dill",     "function_zip_dill"};

class Fixture : public ::testing::TestWithParam<const char*> {};

TEST_P(Fixture, MatchesWhatPyTorchSaved) {
  const std::string name = GetParam();
  const nlohmann::json want = nlohmann::json::parse(read_file(kFixtures + "/" + name + ".json"));
  const TorchFile f = TorchFile::open(kFixtures + "/" + name + ".pt");
  EXPECT_EQ(f.format(), want["format"].get<std::string>());
  ASSERT_EQ(f.tensors().size(), want["tensors"].size());
  for (const auto& [tname, w] : want["tensors"].items()) {
    SCOPED_TRACE(tname);
    ASSERT_TRUE(f.has(tname));
    const TorchTensor& t = f.tensor(tname);
    EXPECT_EQ(t.problem, "");
    EXPECT_EQ(t.dtype, w["dtype"].get<std::string>());
    EXPECT_EQ(t.shape, w["shape"].get<std::vector<std::int64_t>>());
    EXPECT_EQ(t.strides, w["strides"].get<std::vector<std::int64_t>>());
    EXPECT_EQ(t.storage_offset, w["storage_offset"].get<std::int64_t>());
    const auto values = w["values"].get<std::vector<double>>();
    const std::vector<double> got = f.read_f64(tname);
    ASSERT_EQ(got.size(), values.size());
    for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(got[i], values[i]) << i;
    const std::vector<float> got32 = f.read_f32(tname);
    ASSERT_EQ(got32.size(), values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      EXPECT_EQ(got32[i], static_cast<float>(values[i])) << i;
    }
  }
  for (const auto& group : want["same_storage"]) {
    const std::string first = group[0].get<std::string>();
    for (const auto& other : group) {
      EXPECT_EQ(f.tensor(other.get<std::string>()).storage_key, f.tensor(first).storage_key);
    }
  }
  EXPECT_EQ(f.scalars(), want["scalars"]);
}

INSTANTIATE_TEST_SUITE_P(TorchFile, Fixture, ::testing::ValuesIn(kFixtureNames));

TEST(TorchFile, FixturesCoverTheirCases) {
  // The views and shared storages are what they claim to be, so the value checks above see
  // strides and offsets at work.
  const TorchFile f = TorchFile::open(kFixtures + "/state_dict_legacy.pt");
  const TorchTensor& t = f.tensor("view.transposed");
  EXPECT_EQ(t.strides, (std::vector<std::int64_t>{1, 6}));
  EXPECT_EQ(t.storage_offset, 8);
  EXPECT_EQ(t.storage_key, f.tensor("view.base").storage_key);
  EXPECT_EQ(f.tensor("bn1.num_batches_tracked").dtype, "I64");
  EXPECT_EQ(f.tensor("bn1.num_batches_tracked").shape, std::vector<std::int64_t>{});
  EXPECT_EQ(f.read_f64("bn1.num_batches_tracked"), std::vector<double>{1234567.0});

  const TorchFile train = TorchFile::open(kFixtures + "/training_legacy_dill.pt");
  EXPECT_EQ(train.scalars()["epoch"], 7);
  EXPECT_EQ(train.scalars()["arch"], "resnet50");
  EXPECT_TRUE(train.has("model.conv1.weight"));
  EXPECT_TRUE(train.has("optimizer.state.0.momentum_buffer"));
  EXPECT_TRUE(train.has("param"));  // an nn.Parameter
  EXPECT_EQ(train.scalars()["optimizer.param_groups.0.lr"], 0.1);
  EXPECT_EQ(TorchFile::open(kFixtures + "/training_zip.pt").format(), std::string("zip"));
}

TEST(TorchFile, PickledFunctionStaysOpaqueAndUnrun) {
  const std::string marker = "/tmp/robustprior_pt_fixture_executed";
  std::filesystem::remove(marker);
  for (const char* name : {"function_legacy_dill", "function_zip_dill"}) {
    const TorchFile f = TorchFile::open(kFixtures + "/" + name + ".pt");
    EXPECT_TRUE(f.has("model.w"));
    EXPECT_FALSE(f.scalars().contains("fn"));
    EXPECT_EQ(f.read_f64("model.w").size(), 6u);
  }
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(TorchFile, RefusesFilesThatAreNotCheckpoints) {
  test::TempDir dir;
  EXPECT_NE(error_of([&] { TorchFile::open(dir.file("missing.pt")); }).find("cannot open"),
            std::string::npos);
  EXPECT_NE(error_of([&] { TorchFile::open(dir.path()); }).find("not a regular file"),
            std::string::npos);
  // Over 4 GiB: refused from its size, before any byte is read (a sparse file costs nothing).
  {
    std::ofstream(dir.file("huge.pt")).put('\x80');
    std::filesystem::resize_file(dir.file("huge.pt"), (4ull << 30) + 1);
    const std::string e = error_of([&] { TorchFile::open(dir.file("huge.pt")); });
    EXPECT_NE(e.find("4294967297 bytes, over the 4294967296-byte limit"), std::string::npos) << e;
  }
  const std::string e = error_of([] { TorchFile::parse(to_bytes("GIF89a..."), "x.pt"); });
  EXPECT_NE(e.find("x.pt"), std::string::npos) << e;
  EXPECT_NE(e.find("found 0x47 0x49 0x46 0x38"), std::string::npos) << e;
  EXPECT_NE(error_of([] { TorchFile::parse({}, "e.pt"); }).find("an empty file"),
            std::string::npos);
  // A pickle of something else: no magic number.
  EXPECT_NE(error_of([] {
              TorchFile::parse(to_bytes("\x80\x02K\x05."), "p.pt");
            }).find("no magic number"),
            std::string::npos);
}

// Hostile pickles, built opcode by opcode ------------------------------------------------------

struct Pickle {
  std::string b = std::string("\x80\x02", 2);
  Pickle& raw(const std::string& s) {
    b += s;
    return *this;
  }
  Pickle& op(char c) {
    b += c;
    return *this;
  }
  Pickle& u32(std::uint32_t x) {
    for (int k = 0; k < 4; ++k) b += static_cast<char>((x >> (8 * k)) & 0xFF);
    return *this;
  }
  Pickle& u64(std::uint64_t x) {
    for (int k = 0; k < 8; ++k) b += static_cast<char>((x >> (8 * k)) & 0xFF);
    return *this;
  }
  Pickle& str(const std::string& s) {
    op('X').u32(static_cast<std::uint32_t>(s.size()));
    return raw(s);
  }
  Pickle& i(std::int32_t x) { return op('J').u32(static_cast<std::uint32_t>(x)); }
  Pickle& i64(std::int64_t x) {
    op('\x8a').raw(std::string(1, '\x08'));
    return u64(static_cast<std::uint64_t>(x));
  }
  Pickle& global(const std::string& module, const std::string& name) {
    return op('c').raw(module + "\n" + name + "\n");
  }
  Pickle& ints(const std::vector<std::int64_t>& xs) {
    op('(');
    for (const std::int64_t x : xs) i64(x);
    return op('t');
  }
  // A FloatStorage persistent id.
  Pickle& storage(const std::string& key, std::int64_t numel) {
    op('(').str("storage").global("torch", "FloatStorage").str(key).str("cpu").i64(numel);
    return op('t').op('Q');
  }
  // _rebuild_tensor_v2(<storage pushed by `push_storage`>, offset, size, stride, False, {})
  Pickle& tensor(const std::function<void(Pickle&)>& push_storage, std::int64_t offset,
                 const std::vector<std::int64_t>& size, const std::vector<std::int64_t>& stride) {
    global("torch._utils", "_rebuild_tensor_v2").op('(');
    push_storage(*this);
    i64(offset).ints(size).ints(stride).op('\x89');
    global("collections", "OrderedDict").op(')').op('R');
    return op('t').op('R');
  }
  std::string done() { return b + "."; }
};

std::string magic_pickle() {
  // LONG1 of the 10-byte magic number 0x1950a86a20f9469cfc6c.
  return std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
}

// A legacy file: header pickles, `object`, the storage keys, then each (count, bytes).
std::string legacy(const std::string& object,
                   const std::vector<std::pair<std::string, std::string>>& storages = {},
                   const std::vector<std::uint64_t>& counts = {}) {
  std::string out = magic_pickle();
  out += std::string("\x80\x02M\xe9\x03.", 6);
  out += Pickle().op('}').str("little_endian").op('\x88').op('s').done();
  out += object;
  Pickle keys;
  keys.op(']').op('(');
  for (const auto& s : storages) keys.str(s.first);
  out += keys.op('e').done();
  for (std::size_t k = 0; k < storages.size(); ++k) {
    std::uint64_t count = k < counts.size() ? counts[k] : storages[k].second.size() / 4;
    for (int j = 0; j < 8; ++j) out += static_cast<char>((count >> (8 * j)) & 0xFF);
    out += storages[k].second;
  }
  return out;
}

std::string floats(std::initializer_list<float> xs) {
  std::string out;
  for (const float x : xs) out.append(reinterpret_cast<const char*>(&x), sizeof x);
  return out;
}

TEST(TorchFile, ReadsAHandBuiltLegacyFile) {
  // The builders themselves are right: a valid file reads back.
  Pickle p;
  p.op('}').str("t").tensor([](Pickle& q) { q.storage("0", 4); }, 1, {3}, {1}).op('s');
  p.str("n").i(-5).op('s');
  const TorchFile f = TorchFile::parse(
      to_bytes(legacy(p.done(), {{"0", floats({1.5f, -2.f, 3.25f, 4.f})}})), "ok.pt");
  EXPECT_EQ(f.format(), std::string("legacy"));
  EXPECT_EQ(f.read_f64("t"), (std::vector<double>{-2.0, 3.25, 4.0}));
  EXPECT_EQ(f.scalars()["n"], -5);
}

TEST(TorchFile, ReadsGpuStoragesAndLegacyStorageViews) {
  // Files saved from a GPU name torch.cuda.<T>Storage; torch < 1.6 may name a view of a root
  // storage (view_key, offset, numel) as the persistent id's sixth item.
  Pickle p;
  p.op('}').str("gpu");
  p.tensor(
      [](Pickle& q) {
        q.op('(').str("storage").global("torch.cuda", "FloatStorage").str("0").str("cuda:0");
        q.i64(4).op('t').op('Q');
      },
      0, {2, 2}, {1, 2});
  p.op('s').str("view");
  p.tensor(
      [](Pickle& q) {
        q.op('(').str("storage").global("torch.cuda", "FloatStorage").str("0").str("cuda:0");
        q.i64(4).op('(').str("1").i64(2).i64(2).op('t').op('t').op('Q');
      },
      1, {1}, {1});
  p.op('s');
  const TorchFile f =
      TorchFile::parse(to_bytes(legacy(p.done(), {{"0", floats({1.f, 2.f, 3.f, 4.f})}})), "gpu.pt");
  EXPECT_EQ(f.read_f64("gpu"), (std::vector<double>{1.0, 3.0, 2.0, 4.0}));
  EXPECT_EQ(f.tensor("view").storage_offset, 3);
  EXPECT_EQ(f.read_f64("view"), std::vector<double>{4.0});
}

TEST(TorchFile, ReadsProtocolZeroOpcodes) {
  // INT, LONG, FLOAT, STRING, UNICODE, text PUT/GET, DICT, LIST, TUPLE, as Python 2 wrote them.
  std::string object = "(dp0\nS'epoch'\np1\nI89\nsS'arch'\np2\nVres\\u00e9net\np3\ns";
  object += "S'big'\nL12345678901L\nsS'lr'\nF0.125\nsS'flag'\nI01\nsS'again'\ng2\n";
  object += "sS'list'\n(lp4\nI1\naI2\naS'esc\\x41\\n'\nas.";
  const TorchFile f = TorchFile::parse(to_bytes(legacy(object)), "p0.pt");
  EXPECT_EQ(f.scalars()["epoch"], 89);
  EXPECT_EQ(f.scalars()["arch"], "res\xc3\xa9net");
  EXPECT_EQ(f.scalars()["big"], 12345678901ll);
  EXPECT_EQ(f.scalars()["lr"], 0.125);
  EXPECT_EQ(f.scalars()["flag"], true);
  EXPECT_EQ(f.scalars()["again"], "arch");
  EXPECT_EQ(f.scalars()["list.1"], 2);
  EXPECT_EQ(f.scalars()["list.2"], "escA\n");
}

TEST(TorchFile, AllowlistedGlobalsBuildTheirStructures) {
  const auto float_storage = [](Pickle& q) { q.storage("0", 4); };
  const auto rebuild_args = [&](Pickle& q) {
    q.op('(');
    float_storage(q);
    q.i64(0).ints({2}).ints({1}).op('\x89').global("collections", "OrderedDict").op(')').op('R');
    q.op('t');
  };
  Pickle p;
  p.op('}');
  // _rebuild_from_type_v2(_rebuild_tensor_v2, torch.Tensor, args, {}): the tensor itself.
  p.str("typed").global("torch._tensor", "_rebuild_from_type_v2").op('(');
  p.global("torch._utils", "_rebuild_tensor_v2").global("torch", "Tensor");
  rebuild_args(p);
  p.op('}').op('t').op('R').op('s');
  // ... wrapping it as another type: opaque.
  p.str("ndarray").global("torch._tensor", "_rebuild_from_type_v2").op('(');
  p.global("torch._utils", "_rebuild_tensor_v2").global("numpy", "ndarray");
  rebuild_args(p);
  p.op('}').op('t').op('R').op('s');
  // _rebuild_tensor_v3 on an untyped storage, its dtype given as torch.int32.
  p.str("v3").global("torch._utils", "_rebuild_tensor_v3").op('(');
  p.op('(').str("storage").global("torch", "UntypedStorage").str("1").str("cpu").i64(8);
  p.op('t').op('Q').i64(1).ints({1}).ints({1}).op('\x89').op('}').global("torch", "int32");
  p.op('t').op('R').op('s');
  p.str("size").global("torch", "Size").op('(').ints({3, 4}).op('t').op('R').op('s');
  p.str("device").global("torch", "device").op('(').str("cuda").i(1).op('t').op('R').op('s');
  p.str("set").global("builtins", "set").op('(').op(']').op('t').op('R').op('s');
  p.str("bytes").global("_codecs", "encode").op('(').str("\xc3\xa9").str("latin1").op('t');
  p.op('R').op('s');
  const TorchFile f = TorchFile::parse(
      to_bytes(legacy(p.done(), {{"0", floats({1, 2, 3, 4})}, {"1", floats({0, 0})}}, {4, 8})),
      "allow.pt");
  EXPECT_EQ(f.read_f64("typed"), (std::vector<double>{1, 2}));
  EXPECT_FALSE(f.has("ndarray"));
  ASSERT_TRUE(f.has("v3"));
  EXPECT_EQ(f.tensor("v3").dtype, "I32");
  EXPECT_EQ(f.read_f64("v3"), std::vector<double>{0});
  EXPECT_EQ(f.scalars()["size.1"], 4);
  EXPECT_EQ(f.scalars()["device"], "cuda:1");
  EXPECT_FALSE(f.scalars().contains("set"));
  EXPECT_FALSE(f.scalars().contains("bytes"));  // bytes are neither tensors nor scalars
}

TEST(TorchFile, CallsOfArbitraryGlobalsAreNeverExecuted) {
  const std::string marker = "/tmp/robustprior_pt_pwned_" + std::to_string(::getpid());
  std::filesystem::remove(marker);
  const std::string command = "touch " + marker;
  const auto system_call = [&](Pickle& q) {
    q.global("os", "system").op('(').str(command).op('t').op('R');
  };
  Pickle p;
  p.op('}');
  p.str("t").tensor(system_call, 0, {1}, {1}).op('s');  // storage from os.system
  p.str("call");
  system_call(p);
  p.op('s');
  // STACK_GLOBAL, NEWOBJ, INST and OBJ forms of the same.
  p.str("stack").str("posix").str("system").op('\x93').op('(').str(command).op('t').op('R').op('s');
  p.str("newobj").global("subprocess", "Popen").op('(').str(command).op('t').op('\x81').op('s');
  p.str("inst").op('(').str(command).raw("ios\nsystem\n").op('s');
  p.str("obj").op('(').global("os", "system").str(command).op('o').op('s');
  p.str("param").global("torch._utils", "_rebuild_parameter").op('(');
  system_call(p);
  p.op('\x89').op(')').op('t').op('R').op('s');
  const TorchFile f = TorchFile::parse(to_bytes(legacy(p.done())), "evil.pt");
  EXPECT_FALSE(std::filesystem::exists(marker));
  ASSERT_TRUE(f.has("t"));
  EXPECT_NE(f.tensor("t").problem.find("os.system"), std::string::npos) << f.tensor("t").problem;
  const std::string e = error_of([&] { f.read_f64("t"); });
  EXPECT_NE(e.find("tensor 't' cannot be read"), std::string::npos) << e;
  EXPECT_NE(e.find("os.system"), std::string::npos) << e;
  ASSERT_TRUE(f.has("param"));
  EXPECT_NE(error_of([&] { f.read_f32("param"); }).find("cannot be read"), std::string::npos);
  for (const char* key : {"call", "stack", "newobj", "inst", "obj"}) {
    EXPECT_FALSE(f.scalars().contains(key)) << key;
    EXPECT_FALSE(f.has(key)) << key;
  }
  EXPECT_FALSE(std::filesystem::exists(marker));
}

std::string legacy_error(const std::string& object) {
  return error_of([&] { TorchFile::parse(to_bytes(legacy(object)), "bad.pt"); });
}

TEST(TorchFile, RefusesMalformedPickles) {
  std::string e = legacy_error(Pickle().op('h').raw("\x05").done());
  EXPECT_NE(e.find("bad.pt"), std::string::npos) << e;
  EXPECT_NE(e.find("opcode BINGET"), std::string::npos) << e;
  EXPECT_NE(e.find("memo index 5"), std::string::npos) << e;
  EXPECT_NE(e.find("byte "), std::string::npos) << e;
  e = legacy_error(Pickle().op('j').u32(0xFFFFFFFFu).done());
  EXPECT_NE(e.find("memo index 4294967295"), std::string::npos) << e;
  e = legacy_error(Pickle().done());
  EXPECT_NE(e.find("opcode STOP: stack underflow"), std::string::npos) << e;
  e = legacy_error(Pickle().op('t').done());
  EXPECT_NE(e.find("no MARK"), std::string::npos) << e;
  e = legacy_error(Pickle().op('(').op('a').done());  // APPEND below the mark
  EXPECT_NE(e.find("stack underflow"), std::string::npos) << e;
  e = legacy_error(Pickle().op('K').raw("\x01").op('K').raw("\x02").op('a').done());
  EXPECT_NE(e.find("APPEND into a int"), std::string::npos) << e;
  e = legacy_error(Pickle().op('\xff').done());
  EXPECT_NE(e.find("unknown opcode"), std::string::npos) << e;
  e = legacy_error(Pickle().op('\x82').raw("\x01").done());
  EXPECT_NE(e.find("EXT1"), std::string::npos) << e;
  e = legacy_error(std::string("\x80\x06N.", 4));
  EXPECT_NE(e.find("protocol 6"), std::string::npos) << e;
  e = legacy_error(Pickle().op('X').raw("\xff\xfe").u32(0).raw("\x00\x00").done());
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  e = legacy_error(Pickle().op('X').u32(2).raw("\xc3\x28").done());
  EXPECT_NE(e.find("UTF-8"), std::string::npos) << e;
  // Huge declared lengths: never allocated, refused against the bytes left.
  e = legacy_error(Pickle().op('\x8d').u64(~0ull).done());
  EXPECT_NE(e.find("opcode BINUNICODE8: truncated: needs 18446744073709551615 bytes"),
            std::string::npos)
      << e;
  e = legacy_error(Pickle().op('\x8e').u64(1ull << 62).done());
  EXPECT_NE(e.find("BINBYTES8: truncated"), std::string::npos) << e;
  e = legacy_error(Pickle().op('T').u32(0x80000000u).done());
  EXPECT_NE(e.find("negative length"), std::string::npos) << e;
  e = legacy_error(Pickle().op('\x95').u64(1ull << 40).op('N').done());
  EXPECT_NE(e.find("FRAME: truncated"), std::string::npos) << e;
  e = legacy_error(Pickle().op('c').raw("os").done());
  EXPECT_NE(e.find("GLOBAL: truncated: no end of line"), std::string::npos) << e;
}

TEST(TorchFile, RefusesAbsurdNesting) {
  // 100000 lists each appended into the one below: nesting the walk refuses, not a stack
  // overflow.
  Pickle lists;
  for (int k = 0; k < 100000; ++k) lists.op(']');
  for (int k = 0; k < 99999; ++k) lists.op('a');
  std::string e = legacy_error(lists.done());
  EXPECT_NE(e.find("nested deeper than"), std::string::npos) << e;
  Pickle marks;
  for (int k = 0; k < 200000; ++k) marks.op('(');
  e = legacy_error(marks.done());
  EXPECT_NE(e.find("MARKs nested too deep"), std::string::npos) << e;
  // 60 levels of [prev, prev]: 2^60 paths through 180 values.
  Pickle laughs;
  laughs.op(']').op('q').raw(std::string(1, '\0')).op('0');
  for (int k = 0; k < 60; ++k) {
    laughs.op('(').op('h').raw(std::string(1, '\0')).op('h').raw(std::string(1, '\0'));
    laughs.op('l').op('q').raw(std::string(1, '\0')).op('0');
  }
  e = legacy_error(laughs.op('h').raw(std::string(1, '\0')).done());
  EXPECT_TRUE(e.find("values reached") != std::string::npos ||
              e.find("names and strings exceed") != std::string::npos)
      << e;
  // torch.Size of one long list, called again and again: every copy counts.
  Pickle copies;
  copies.op('(');
  for (int k = 0; k < 100000; ++k) copies.op('N');
  copies.op('l').op('\x85').op('q').raw(std::string(1, '\0')).op('0');
  copies.global("torch", "Size").op('q').raw(std::string(1, '\1')).op('0').op(']');
  for (int k = 0; k < 1000; ++k) {
    copies.op('h').raw(std::string(1, '\1')).op('h').raw(std::string(1, '\0')).op('R').op('a');
  }
  e = legacy_error(copies.done());
  EXPECT_NE(e.find("containers hold more than"), std::string::npos) << e;
  // A list that contains itself is walked once.
  const TorchFile f = TorchFile::parse(to_bytes(legacy(Pickle()
                                                           .op(']')
                                                           .op('q')
                                                           .raw(std::string(1, '\0'))
                                                           .op('h')
                                                           .raw(std::string(1, '\0'))
                                                           .op('a')
                                                           .done())),
                                       "cycle.pt");
  EXPECT_TRUE(f.tensors().empty());
}

TEST(TorchFile, RefusesStoragesLargerThanTheFile) {
  Pickle p;
  p.op('}').str("t").tensor([](Pickle& q) { q.storage("0", 4); }, 0, {4}, {1}).op('s');
  const std::string object = p.done();
  const auto parse_error = [&](const std::vector<std::uint64_t>& counts, const std::string& data) {
    return error_of([&] {
      TorchFile::parse(to_bytes(legacy(object, {{"0", data}}, counts)), "big.pt");
    });
  };
  std::string e = parse_error({5}, floats({1, 2, 3, 4}));
  EXPECT_NE(e.find("storage '0' declares 5 x 4 bytes, 16 left"), std::string::npos) << e;
  // Counts whose byte size overflows 64 bits.
  for (const std::uint64_t count : {~0ull, 1ull << 62, (1ull << 63) + 1}) {
    e = parse_error({count}, floats({1, 2, 3, 4}));
    EXPECT_NE(e.find("declares"), std::string::npos) << e;
  }
  // A storage smaller than the tensor reads: listed with a problem, refused when read.
  const TorchFile f =
      TorchFile::parse(to_bytes(legacy(object, {{"0", floats({1, 2, 3})}})), "small.pt");
  EXPECT_NE(f.tensor("t").problem.find("outside its storage"), std::string::npos);
  EXPECT_NE(error_of([&] { f.read_f64("t"); }).find("outside its storage"), std::string::npos);
}

TEST(TorchFile, TensorsReachingOutsideTheirStorageCannotBeRead) {
  const auto tensor_problem = [](std::int64_t offset, const std::vector<std::int64_t>& size,
                                 const std::vector<std::int64_t>& stride) {
    Pickle p;
    p.op('}').str("t").tensor([](Pickle& q) { q.storage("0", 4); }, offset, size, stride).op('s');
    const TorchFile f =
        TorchFile::parse(to_bytes(legacy(p.done(), {{"0", floats({1, 2, 3, 4})}})), "s.pt");
    const std::string e = error_of([&] { f.read_f64("t"); });
    EXPECT_NE(e.find("cannot be read"), std::string::npos) << e;
    return f.tensor("t").problem;
  };
  EXPECT_NE(tensor_problem(0, {2, 2}, {2, 2}).find("reaches element 4 of a storage of 4"),
            std::string::npos);
  EXPECT_NE(tensor_problem(4, {1}, {1}).find("outside"), std::string::npos);
  EXPECT_NE(tensor_problem(0, {2}, {-1}).find("negative"), std::string::npos);
  EXPECT_NE(tensor_problem(0, {1ll << 62, 4}, {4, 1}).find("more than"), std::string::npos);
  EXPECT_NE(tensor_problem(1ll << 62, {3}, {1ll << 62}).find("overflow"), std::string::npos);
  EXPECT_NE(tensor_problem(0, {2, 2}, {1}).find("differ in length"), std::string::npos);
  // Empty tensors read nothing, whatever their offset.
  Pickle p;
  p.op('}').str("t").tensor([](Pickle& q) { q.storage("0", 4); }, 0, {0, 3}, {3, 1}).op('s');
  EXPECT_TRUE(TorchFile::parse(to_bytes(legacy(p.done(), {{"0", floats({1, 2, 3, 4})}})), "e.pt")
                  .read_f64("t")
                  .empty());
}

TEST(TorchFile, TruncationAtEveryByteIsRefused) {
  for (const char* name : {"state_dict_legacy", "state_dict_zip", "training_legacy_dill"}) {
    const std::vector<std::uint8_t> bytes = fixture_bytes(name);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
      try {
        TorchFile::parse(std::move(cut), name);
        ADD_FAILURE() << name << " cut to " << n << " bytes was accepted";
      } catch (const Error&) {
      }
    }
  }
}

TEST(TorchFile, EveryByteFlippedIsReadOrRefused) {
  // Each corruption either still reads (a changed value, a changed name) or is an rp::Error;
  // any other exception escapes and fails the test.
  for (const char* name : {"state_dict_legacy_proto5", "function_legacy_dill"}) {
    const std::vector<std::uint8_t> bytes = fixture_bytes(name);
    int accepted = 0;
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      std::vector<std::uint8_t> flipped = bytes;
      flipped[n] ^= 0xFF;
      try {
        const TorchFile f = TorchFile::parse(std::move(flipped), name);
        for (const auto& [tname, t] : f.tensors()) {
          if (t.problem.empty()) (void)f.read_f64(tname);
        }
        (void)f.scalars().dump();
        ++accepted;
      } catch (const Error&) {
      }
    }
    EXPECT_GT(accepted, 0) << name << ": flips inside the storages' data still read";
  }
}

// Hostile zips ---------------------------------------------------------------------------------

std::uint32_t crc32(const std::string& s) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (const char ch : s) {
    c ^= static_cast<std::uint8_t>(ch);
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

void put(std::string& out, std::uint64_t x, int n) {
  for (int k = 0; k < n; ++k) out += static_cast<char>((x >> (8 * k)) & 0xFF);
}

// A STORED zip of `entries`; `local_offsets` receives where each local header starts.
// With `zip64`, the central directory and end record saturate their fields and carry the
// values in zip64 extra fields and a zip64 end record, as writers do past 4 GiB.
std::string zip(const std::vector<std::pair<std::string, std::string>>& entries,
                std::vector<std::size_t>* local_offsets = nullptr, bool zip64 = false) {
  std::string out, central;
  for (const auto& [name, data] : entries) {
    if (local_offsets) local_offsets->push_back(out.size());
    const std::size_t local = out.size();
    put(out, 0x04034b50, 4);
    put(out, 20, 2);
    put(out, 0, 2);
    put(out, 0, 2);  // method: stored
    put(out, 0, 4);
    put(out, crc32(data), 4);
    put(out, data.size(), 4);
    put(out, data.size(), 4);
    put(out, name.size(), 2);
    put(out, 0, 2);
    out += name + data;
    put(central, 0x02014b50, 4);
    put(central, 20, 2);
    put(central, 20, 2);
    put(central, 0, 2);
    put(central, 0, 2);
    put(central, 0, 4);
    put(central, crc32(data), 4);
    put(central, zip64 ? 0xFFFFFFFFu : data.size(), 4);
    put(central, zip64 ? 0xFFFFFFFFu : data.size(), 4);
    put(central, name.size(), 2);
    put(central, zip64 ? 32 : 0, 2);
    put(central, 0, 4);
    put(central, 0, 6);
    put(central, zip64 ? 0xFFFFFFFFu : local, 4);
    central += name;
    if (zip64) {
      put(central, 0x0001, 2);
      put(central, 24, 2);
      put(central, data.size(), 8);
      put(central, data.size(), 8);
      put(central, local, 8);
      put(central, 0x5A5A, 2);  // an unrelated field after it, skipped
      put(central, 0, 2);
    }
  }
  const std::size_t cd_offset = out.size();
  out += central;
  if (zip64) {
    const std::size_t record = out.size();
    put(out, 0x06064b50, 4);
    put(out, 44, 8);
    put(out, 45, 2);
    put(out, 45, 2);
    put(out, 0, 8);
    put(out, entries.size(), 8);
    put(out, entries.size(), 8);
    put(out, central.size(), 8);
    put(out, cd_offset, 8);
    put(out, 0x07064b50, 4);
    put(out, 0, 4);
    put(out, record, 8);
    put(out, 1, 4);
  }
  put(out, 0x06054b50, 4);
  put(out, 0, 4);
  put(out, zip64 ? 0xFFFF : entries.size(), 2);
  put(out, zip64 ? 0xFFFF : entries.size(), 2);
  put(out, zip64 ? 0xFFFFFFFFu : central.size(), 4);
  put(out, zip64 ? 0xFFFFFFFFu : cd_offset, 4);
  put(out, 0, 2);
  return out;
}

std::string zip_object(std::int64_t numel) {
  Pickle p;
  p.op('}').str("t").tensor([&](Pickle& q) { q.storage("0", numel); }, 0, {4}, {1}).op('s');
  return p.done();
}

std::string zip_error(const std::string& bytes) {
  return error_of([&] { TorchFile::parse(to_bytes(bytes), "z.pt"); });
}

TEST(TorchFile, ReadsAHandBuiltZip) {
  const TorchFile f = TorchFile::parse(to_bytes(zip({{"a/data.pkl", zip_object(4)},
                                                     {"a/data/0", floats({1, 2, 3, 4})},
                                                     {"a/byteorder", "little"}})),
                                       "z.pt");
  EXPECT_EQ(f.format(), std::string("zip"));
  EXPECT_EQ(f.read_f32("t"), (std::vector<float>{1, 2, 3, 4}));
  const TorchFile z = TorchFile::parse(
      to_bytes(
          zip({{"b/data.pkl", zip_object(4)}, {"b/data/0", floats({5, 6, 7, 8})}}, nullptr, true)),
      "z64.pt");
  EXPECT_EQ(z.read_f32("t"), (std::vector<float>{5, 6, 7, 8}));
  // The zip64 record's offset pointing elsewhere.
  std::string bad =
      zip({{"b/data.pkl", zip_object(4)}, {"b/data/0", floats({5, 6, 7, 8})}}, nullptr, true);
  bad[bad.size() - 22 - 20 + 8] ^= 0x10;
  const std::string e = zip_error(bad);
  EXPECT_NE(e.find("zip64 end record"), std::string::npos) << e;
}

TEST(TorchFile, RefusesBrokenZips) {
  // An entry shorter than the storage it holds.
  std::string e = zip_error(zip({{"a/data.pkl", zip_object(4)}, {"a/data/0", floats({1, 2})}}));
  EXPECT_NE(e.find("storage '0' declares 4 x 4 bytes but its entry a/data/0 holds 8"),
            std::string::npos)
      << e;
  // A missing storage entry: listed with a problem.
  const TorchFile f = TorchFile::parse(to_bytes(zip({{"a/data.pkl", zip_object(4)}})), "z.pt");
  EXPECT_NE(f.tensor("t").problem.find("not in the file"), std::string::npos);
  // Not a torch archive.
  e = zip_error(zip({{"a/other", "x"}}));
  EXPECT_NE(e.find("no <archive>/data.pkl"), std::string::npos) << e;
  e = zip_error(zip({{"a/data.pkl", zip_object(4)}, {"a/byteorder", "big"}}));
  EXPECT_NE(e.find("byte order 'big'"), std::string::npos) << e;

  const std::vector<std::pair<std::string, std::string>> entries{
      {"a/data.pkl", zip_object(4)}, {"a/data/0", floats({1, 2, 3, 4})}};
  std::vector<std::size_t> locals;
  const std::string good = zip(entries, &locals);
  const std::size_t cd = good.size() - 22 - (46 + 10) - (46 + 8);
  // A bad local-header offset in the central directory.
  std::string bad = good;
  bad[cd + 46 + 10 + 42] = '\x7f';
  e = zip_error(bad);
  EXPECT_NE(e.find("entry 'a/data/0': local header offset"), std::string::npos) << e;
  // A compressed entry (method 8, deflate), in both headers.
  bad = good;
  bad[locals[1] + 8] = 8;
  bad[cd + 46 + 10 + 10] = 8;
  e = zip_error(bad);
  EXPECT_NE(e.find("is compressed (method 8)"), std::string::npos) << e;
  // An encrypted entry.
  bad = good;
  bad[cd + 8] = 1;
  e = zip_error(bad);
  EXPECT_NE(e.find("is encrypted"), std::string::npos) << e;
  // Corrupt data.
  bad = good;
  bad[locals[1] + 30 + 8 + 2] ^= 0x40;
  e = zip_error(bad);
  EXPECT_NE(e.find("CRC-32 mismatch"), std::string::npos) << e;
  // Two entries pointing at one local header: overlap (and a name mismatch).
  bad = good;
  for (int k = 0; k < 4; ++k) bad[cd + 46 + 10 + 42 + static_cast<std::size_t>(k)] = 0;
  e = zip_error(bad);
  EXPECT_NE(e.find("local header disagrees"), std::string::npos) << e;
  // Duplicate names, and entries that overlap.
  e = zip_error(zip({{"a/data.pkl", zip_object(4)}, {"a/data.pkl", zip_object(4)}}));
  EXPECT_NE(e.find("duplicate entry 'a/data.pkl'"), std::string::npos) << e;
  // A central directory past the end, and an entry count it cannot hold.
  bad = good;
  bad[bad.size() - 22 + 16] = '\x7f';
  e = zip_error(bad);
  EXPECT_NE(e.find("central directory"), std::string::npos) << e;
  bad = good;
  bad[bad.size() - 22 + 10] = '\x7f';
  bad[bad.size() - 22 + 8] = '\x7f';
  e = zip_error(bad);
  EXPECT_NE(e.find("entries cannot fit"), std::string::npos) << e;
  // zip64 asked for but absent.
  bad = good;
  bad[bad.size() - 22 + 10] = '\xff';
  bad[bad.size() - 22 + 11] = '\xff';
  e = zip_error(bad);
  EXPECT_NE(e.find("zip64"), std::string::npos) << e;
}

TEST(ZipReader, OverlappingEntriesAreRefused) {
  // Entry 2's local header lies inside entry 1's data: both names match their own headers.
  std::string inner;
  {
    std::vector<std::size_t> locals;
    inner = zip({{"b", "yy"}}, &locals);
    inner.resize(inner.size() - 22 - 46 - 1);  // keep the local header and data only
  }
  std::string out;
  const std::string outer_data = "xx" + inner;
  std::string central;
  const auto header = [&](std::string& o, bool is_central, const std::string& name,
                          const std::string& data, std::size_t local) {
    put(o, is_central ? 0x02014b50 : 0x04034b50, 4);
    if (is_central) put(o, 20, 2);
    put(o, 20, 2);
    put(o, 0, 2);
    put(o, 0, 2);
    put(o, 0, 4);
    put(o, crc32(data), 4);
    put(o, data.size(), 4);
    put(o, data.size(), 4);
    put(o, name.size(), 2);
    put(o, 0, 2);
    if (is_central) {
      put(o, 0, 6);
      put(o, 0, 4);
      put(o, local, 4);
    }
    o += name;
  };
  header(out, false, "a", outer_data, 0);
  out += outer_data;
  header(central, true, "a", outer_data, 0);
  header(central, true, "b", "yy", 30 + 1 + 2);
  const std::size_t cd_offset = out.size();
  out += central;
  put(out, 0x06054b50, 4);
  put(out, 0, 4);
  put(out, 2, 2);
  put(out, 2, 2);
  put(out, central.size(), 4);
  put(out, cd_offset, 4);
  put(out, 0, 2);
  const std::vector<std::uint8_t> bytes = to_bytes(out);
  const std::string e = error_of([&] { ZipReader::index(bytes.data(), bytes.size(), "o.zip"); });
  EXPECT_NE(e.find("overlap"), std::string::npos) << e;
}

}  // namespace
}  // namespace rp
