#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/tensor.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

TEST(Tensor, EmptyHasShapeDtypeDeviceAndAlignedStorage) {
  Tensor t = Tensor::empty(Shape{2, 3, 4, 5}, DType::F32);
  EXPECT_TRUE(t.defined());
  EXPECT_EQ(t.shape(), (Shape{2, 3, 4, 5}));
  EXPECT_EQ(t.rank(), 4);
  EXPECT_EQ(t.numel(), 120);
  EXPECT_EQ(t.nbytes(), 480u);
  EXPECT_EQ(t.dtype(), DType::F32);
  EXPECT_EQ(t.device(), Device::cpu());
  EXPECT_EQ(t.layout(), Layout::NCHW);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw_data()) % 256, 0u);
  EXPECT_EQ(t.str(), "f32[2,3,4,5] cpu");
}

TEST(Tensor, UndefinedByDefault) {
  Tensor t;
  EXPECT_FALSE(t.defined());
  EXPECT_EQ(t.raw_data(), nullptr);
  EXPECT_EQ(t.numel(), 0);
  EXPECT_EQ(t.nbytes(), 0u);
  EXPECT_EQ(t.str(), "undefined");
}

TEST(Tensor, ZerosAreZero) {
  Tensor t = Tensor::zeros(Shape{7, 3}, DType::F64);
  for (double v : test::values(t)) EXPECT_EQ(v, 0.0);
}

TEST(Tensor, FromVectorAndToVectorRoundTrip) {
  const std::vector<float> v{1.5f, -2.f, 3.25f, 0.f, 9.f, -1e-7f};
  Tensor t = Tensor::from_vector(v, Shape{2, 3});
  EXPECT_EQ(t.to_vector<float>(), v);
  EXPECT_THROW(Tensor::from_vector(v, Shape{4, 2}), Error);
  EXPECT_THROW(t.to_vector<double>(), Error);
}

TEST(Tensor, DataChecksDtype) {
  Tensor t = Tensor::empty(Shape{3}, DType::F32);
  EXPECT_NO_THROW(t.data<float>());
  try {
    t.data<double>();
    FAIL() << "expected rp::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("f64"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("f32[3]"), std::string::npos) << e.what();
  }
}

TEST(Tensor, ReshapeSharesMemory) {
  Tensor t = test::random_tensor(Shape{2, 6}, DType::F32, 1);
  Tensor r = t.reshape(Shape{3, 2, 2});
  EXPECT_EQ(r.raw_data(), t.raw_data());
  r.data<float>()[5] = 42.f;
  EXPECT_EQ(t.data<float>()[5], 42.f);
  EXPECT_THROW(t.reshape(Shape{5, 2}), Error);
}

TEST(Tensor, SliceSelectsRowsAndKeepsStorageAlive) {
  Tensor s;
  {
    Tensor t = Tensor::from_vector(std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7}, Shape{4, 2});
    s = t.slice(1, 3);
  }  // t's handle is gone; the slice still owns the storage
  EXPECT_EQ(s.shape(), (Shape{2, 2}));
  EXPECT_EQ(test::values(s), (std::vector<double>{2, 3, 4, 5}));
  EXPECT_THROW(s.slice(1, 3), Error);
  EXPECT_THROW(s.slice(2, 1), Error);
  EXPECT_EQ(s.slice(2, 2).numel(), 0);
}

TEST(Tensor, ViewIsBoundsAndAlignmentChecked) {
  Tensor block = Tensor::empty(Shape{64}, DType::U8);
  Tensor v = block.view(16, Shape{4}, DType::F32);
  EXPECT_EQ(static_cast<char*>(v.raw_data()) - static_cast<char*>(block.raw_data()), 16);
  EXPECT_THROW(block.view(52, Shape{4}, DType::F32), Error);  // 52 + 16 > 64
  EXPECT_THROW(block.view(2, Shape{2}, DType::F32), Error);   // misaligned
}

TEST(Tensor, WrapBorrowsMemory) {
  std::vector<float> host{1, 2, 3, 4};
  Tensor t = Tensor::wrap(host.data(), Shape{2, 2}, DType::F32, Device::cpu());
  t.data<float>()[3] = 9.f;
  EXPECT_EQ(host[3], 9.f);
  EXPECT_THROW(Tensor::wrap(nullptr, Shape{2}, DType::F32, Device::cpu()), Error);
}

TEST(Tensor, CopyFromChecksShapeAndOverlap) {
  Tensor a = test::random_tensor(Shape{3, 4}, DType::F32, 2);
  Tensor b = test::poisoned(Shape{3, 4}, DType::F32);
  b.copy_from(a);
  test::expect_equal_exact(b, a, "copy");
  EXPECT_THROW(b.copy_from(Tensor::empty(Shape{4, 3}, DType::F32)), Error);
  EXPECT_THROW(b.copy_from(Tensor::empty(Shape{3, 4}, DType::F64)), Error);
  Tensor big = test::random_tensor(Shape{4, 4}, DType::F32, 3);
  Tensor top = big.slice(0, 3), bottom = big.slice(1, 4);
  EXPECT_THROW(top.copy_from(bottom), Error);
  EXPECT_NO_THROW(top.copy_from(top));  // the same memory: a no-op
}

TEST(Tensor, OverlapAndSameMemory) {
  Tensor t = Tensor::empty(Shape{10, 2}, DType::F32);
  EXPECT_TRUE(t.same_memory(t));
  EXPECT_TRUE(t.overlaps(t.slice(3, 5)));
  EXPECT_FALSE(t.slice(0, 3).overlaps(t.slice(3, 5)));
  EXPECT_FALSE(t.same_memory(t.slice(0, 5)));
  EXPECT_FALSE(t.overlaps(Tensor::empty(Shape{10, 2}, DType::F32)));
}

TEST(Tensor, NhwcIsAFourDimensionalLayout) {
  Tensor t = Tensor::empty(Shape{2, 3, 4, 5}, DType::F32, Device::cpu(), Layout::NHWC);
  EXPECT_EQ(t.layout(), Layout::NHWC);
  EXPECT_EQ(t.str(), "f32[2,3,4,5] cpu NHWC");
  EXPECT_THROW(Tensor::empty(Shape{2, 3}, DType::F32, Device::cpu(), Layout::NHWC), Error);
}

TEST(Shape, RejectsNegativeExtentsAndTooManyDims) {
  EXPECT_THROW((Shape{2, -1}), Error);
  EXPECT_THROW((Shape{1, 1, 1, 1, 1, 1, 1}), Error);
  Shape s{2, 3, 4};
  EXPECT_EQ(s[-1], 4);
  EXPECT_EQ(s.inner_numel(), 12);
  EXPECT_THROW(s[3], Error);
  EXPECT_EQ(Shape{}.numel(), 1);
  EXPECT_THROW((Shape{1ll << 40, 1ll << 40}.numel()), Error);
}

TEST(Device, ParsesNames) {
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse("cuda"), Device::cuda(0));
  EXPECT_EQ(Device::parse("cuda:3"), Device::cuda(3));
  EXPECT_EQ(Device::cuda(1).str(), "cuda:1");
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda:-1", "CPU", ""}) {
    EXPECT_THROW(Device::parse(bad), Error) << bad;
  }
}

TEST(DType, SizesAndNames) {
  EXPECT_EQ(dtype_size(DType::F32), 4u);
  EXPECT_EQ(dtype_size(DType::F64), 8u);
  EXPECT_EQ(dtype_size(DType::BF16), 2u);
  EXPECT_EQ(dtype_size(DType::U8), 1u);
  EXPECT_STREQ(dtype_name(DType::BF16), "bf16");
  EXPECT_TRUE(dtype_is_floating(DType::F16));
  EXPECT_FALSE(dtype_is_floating(DType::I32));
}

}  // namespace
}  // namespace rp
