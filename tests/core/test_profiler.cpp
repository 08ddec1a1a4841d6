// The profiler on the CPU: scopes of each kind add up by name, nest, report their shares, and
// cost nothing without a profiler attached; the ops report themselves through their argument
// checks.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/core/profiler.h"
#include "engine/ops/elementwise.h"

namespace rp {
namespace {

const Profiler::Row* find(const std::vector<Profiler::Row>& rows, const std::string& name) {
  for (const Profiler::Row& r : rows) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

TEST(Profiler, ScopesAddUpByKindAndName) {
  Context ctx(ContextOptions{Device::cpu(), 0, 1});
  Profiler p;
  ctx.set_profiler(&p);
  for (int i = 0; i < 3; ++i) {
    const ProfileScope phase(ctx, ProfileKind::Phase, "forward");
    const ProfileScope layer(ctx, ProfileKind::Layer, "layer1.0");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  {
    const ProfileScope phase(ctx, ProfileKind::Phase, "backward");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const Tensor t = Tensor::zeros(Shape{16});
  fill(ctx, t, 1.0);  // an op: timed through its argument checks
  ctx.set_profiler(nullptr);
  p.collect(ctx);

  const auto phases = p.rows(ProfileKind::Phase);
  ASSERT_EQ(phases.size(), 2u);
  const Profiler::Row* fwd = find(phases, "forward");
  const Profiler::Row* bwd = find(phases, "backward");
  ASSERT_NE(fwd, nullptr);
  ASSERT_NE(bwd, nullptr);
  EXPECT_EQ(fwd->calls, 3);
  EXPECT_GE(fwd->seconds, 0.006);
  EXPECT_EQ(bwd->calls, 1);
  EXPECT_GE(bwd->seconds, 0.005);
  EXPECT_EQ(phases[0].seconds >= phases[1].seconds, true);  // slowest first
  const auto layers = p.rows(ProfileKind::Layer);           // rows() returns a copy: keep it alive
  const Profiler::Row* layer = find(layers, "layer1.0");
  ASSERT_NE(layer, nullptr);
  EXPECT_EQ(layer->calls, 3);
  EXPECT_LE(layer->seconds, fwd->seconds);  // nested inside the phase
  const auto ops = p.rows(ProfileKind::Op);
  const Profiler::Row* op = find(ops, "fill");
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->calls, 1);

  const std::string table = p.table(0.1);
  for (const char* text : {"phase", "layer", "op", "forward", "layer1.0", "fill", "total (wall)"}) {
    EXPECT_NE(table.find(text), std::string::npos) << text << " in\n" << table;
  }
  p.reset();
  EXPECT_TRUE(p.rows(ProfileKind::Phase).empty());
}

TEST(Profiler, NothingIsRecordedWithoutAProfiler) {
  Context ctx(ContextOptions{Device::cpu(), 0, 1});
  EXPECT_EQ(ctx.profiler(), nullptr);
  { const ProfileScope scope(ctx, ProfileKind::Phase, "forward"); }
  Profiler p;
  EXPECT_THROW(p.end(ctx), Error);  // an end without a begin is a bug, reported
  EXPECT_TRUE(p.rows(ProfileKind::Phase).empty());
}

TEST(Profiler, AnOpThatThrowsStillClosesItsScope) {
  Context ctx(ContextOptions{Device::cpu(), 0, 1});
  Profiler p;
  ctx.set_profiler(&p);
  EXPECT_THROW(
      add_forward(ctx, Tensor::zeros(Shape{2}), Tensor::zeros(Shape{3}), Tensor::zeros(Shape{2})),
      Error);
  { const ProfileScope phase(ctx, ProfileKind::Phase, "after"); }
  ctx.set_profiler(nullptr);
  p.collect(ctx);
  EXPECT_NO_THROW(p.reset());  // nothing left open
  EXPECT_TRUE(p.rows(ProfileKind::Phase).empty());
}

}  // namespace
}  // namespace rp
