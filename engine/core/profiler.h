// Profiler: where the time of a run goes, by phase (forward, backward, optimizer, data, attack
// update ...), by layer (the network's blocks) and by op, with each one's share of the total.
//
// A Context carries at most one (Context::set_profiler); ProfileScope marks a region and does
// nothing when the context has none, so instrumented code costs a pointer test otherwise. The
// public ops are timed through their argument checks (OpArgs), the layers by the models, the
// phases by the trainer, the attacker and the benchmarks.
//
// On the CPU a scope is timed with the host clock (the ops run synchronously). On a GPU it
// records two CUDA events on the context's stream - no synchronization inside a step - and
// collect() reads them all at once, at a point where the host waits anyway (the end of a
// logging interval or of a benchmark run); on a GPU every scope is also an NVTX range, so
// Nsight timelines read by name. Events come from a pool that grows only while allocations are
// not frozen; a scope that finds the pool empty in a frozen loop goes untimed and is counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace rp {

class Context;
struct CudaEvent;

enum class ProfileKind : std::uint8_t { Phase, Layer, Op };
const char* profile_kind_name(ProfileKind kind);

class Profiler {
 public:
  Profiler() = default;
  ~Profiler();
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  // Scopes nest strictly (ProfileScope guarantees it). name must stay valid until the next
  // collect() (literals, or names the network owns).
  void begin(Context& ctx, ProfileKind kind, const char* name);
  void end(Context& ctx);
  // Folds the GPU timings recorded so far into the totals (waits for the last event).
  void collect(Context& ctx);
  // Forgets the totals (after a warm-up); collect() first. The event pool stays.
  void reset();

  struct Row {
    ProfileKind kind;
    std::string name;
    std::int64_t calls = 0;
    double seconds = 0;
  };
  // Collected totals of one kind, slowest first.
  std::vector<Row> rows(ProfileKind kind) const;
  std::int64_t untimed() const { return untimed_; }
  // The three tables, each row's share of total_seconds (the caller's wall time of the
  // profiled region), slowest first; at most `max_rows` rows per table.
  std::string table(double total_seconds, int max_rows = 25) const;

 private:
  struct Open {
    ProfileKind kind;
    const char* name;
    std::chrono::steady_clock::time_point host_start;
    CudaEvent* start = nullptr;  // GPU contexts; null when untimed
  };
  struct Pending {
    ProfileKind kind;
    const char* name;
    CudaEvent* start;
    CudaEvent* stop;
  };
  struct Total {
    std::int64_t calls = 0;
    double seconds = 0;
  };
  CudaEvent* take_event(Context& ctx);
  void add(ProfileKind kind, const char* name, double seconds);

  std::vector<Open> open_;
  std::vector<Pending> pending_;
  std::vector<CudaEvent*> free_, all_;
  std::map<std::pair<ProfileKind, std::string>, Total> totals_;
  std::int64_t untimed_ = 0;
};

// Times its lifetime as `name` on ctx's profiler, if it has one.
class ProfileScope {
 public:
  ProfileScope(Context& ctx, ProfileKind kind, const char* name);
  ~ProfileScope();
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  Context& ctx_;
  Profiler* profiler_;
};

}  // namespace rp
