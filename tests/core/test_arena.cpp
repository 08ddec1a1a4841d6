#include <gtest/gtest.h>

#include <cstdint>

#include "engine/core/arena.h"
#include "engine/core/device_memory.h"
#include "engine/core/error.h"

namespace rp {
namespace {

TEST(Arena, PlansOnceAndHandsOutDisjointAlignedViews) {
  Arena arena;
  const Arena::Slot a = arena.plan(Shape{3, 5}, DType::F32);  // 60 bytes
  const Arena::Slot b = arena.plan(Shape{7}, DType::F64);     // 56 bytes
  const Arena::Slot c = arena.plan(Shape{2, 3, 4, 4}, DType::F32);
  EXPECT_EQ(arena.slots(), 3u);
  EXPECT_FALSE(arena.allocated());
  arena.allocate();
  EXPECT_TRUE(arena.allocated());
  const Tensor ta = arena.get(a), tb = arena.get(b), tc = arena.get(c);
  EXPECT_EQ(ta.shape(), (Shape{3, 5}));
  EXPECT_EQ(tb.dtype(), DType::F64);
  for (const Tensor* t : {&ta, &tb, &tc}) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t->raw_data()) % kAllocationAlignment, 0u);
  }
  EXPECT_FALSE(ta.overlaps(tb));
  EXPECT_FALSE(tb.overlaps(tc));
  EXPECT_FALSE(ta.overlaps(tc));
  EXPECT_EQ(arena.bytes(), 2 * kAllocationAlignment + 2 * 3 * 4 * 4 * 4);
  // Views of one block: writing through one get() is visible through another.
  arena.get(b).data<double>()[6] = 3.5;
  EXPECT_EQ(tb.data<double>()[6], 3.5);
}

TEST(Arena, RefusesMisuse) {
  Arena arena;
  const Arena::Slot a = arena.plan(Shape{4});
  EXPECT_THROW(arena.get(a), Error);  // not allocated yet
  arena.allocate();
  EXPECT_THROW(arena.plan(Shape{4}), Error);
  EXPECT_THROW(arena.allocate(), Error);
  EXPECT_THROW(arena.get(Arena::Slot{7}), Error);
  EXPECT_THROW(arena.get(Arena::Slot{}), Error);
}

TEST(Arena, EmptyArenaAllocates) {
  Arena arena;
  arena.allocate();
  EXPECT_TRUE(arena.allocated());
  EXPECT_EQ(arena.bytes(), 0u);
}

}  // namespace
}  // namespace rp
