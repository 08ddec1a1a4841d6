#include "engine/core/profiler.h"

#include <algorithm>
#include <cstdio>

#include "engine/core/context.h"
#include "engine/core/cuda_ranges.h"
#include "engine/core/cuda_runtime.h"
#include "engine/core/error.h"

namespace rp {

const char* profile_kind_name(ProfileKind kind) {
  switch (kind) {
    case ProfileKind::Phase:
      return "phase";
    case ProfileKind::Layer:
      return "layer";
    case ProfileKind::Op:
      return "op";
  }
  return "?";
}

Profiler::~Profiler() {
  for (CudaEvent* e : all_) cuda_event_destroy(e);
}

CudaEvent* Profiler::take_event(Context& ctx) {
  if (free_.empty()) {
    // Creating an event is a driver allocation: not inside a loop proven allocation-free.
    if (ctx.allocations_frozen()) return nullptr;
    all_.push_back(cuda_event_create(&ctx.cuda()));
    return all_.back();
  }
  CudaEvent* e = free_.back();
  free_.pop_back();
  return e;
}

void Profiler::begin(Context& ctx, ProfileKind kind, const char* name) {
  Open o{kind, name, std::chrono::steady_clock::now(), nullptr};
  if (ctx.device().is_cuda()) {
    cuda_range_push(name);
    o.start = take_event(ctx);
    if (o.start != nullptr) cuda_event_record(&ctx.cuda(), o.start);
  }
  open_.push_back(o);
}

void Profiler::end(Context& ctx) {
  RP_CHECK(!open_.empty(), "Profiler", "end() without a begin()");
  const Open o = open_.back();
  open_.pop_back();
  if (!ctx.device().is_cuda()) {
    add(o.kind, o.name,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - o.host_start).count());
    return;
  }
  cuda_range_pop();
  CudaEvent* stop = o.start != nullptr ? take_event(ctx) : nullptr;
  if (stop == nullptr) {
    if (o.start != nullptr) free_.push_back(o.start);
    ++untimed_;
    return;
  }
  cuda_event_record(&ctx.cuda(), stop);
  pending_.push_back(Pending{o.kind, o.name, o.start, stop});
}

void Profiler::collect(Context&) {
  for (const Pending& p : pending_) {
    add(p.kind, p.name, static_cast<double>(cuda_event_elapsed_ms(p.start, p.stop)) / 1000.0);
    free_.push_back(p.start);
    free_.push_back(p.stop);
  }
  pending_.clear();
}

void Profiler::reset() {
  RP_CHECK(pending_.empty() && open_.empty(), "Profiler",
           "reset() with timings not yet collected or scopes still open");
  totals_.clear();
  untimed_ = 0;
}

void Profiler::add(ProfileKind kind, const char* name, double seconds) {
  Total& t = totals_[{kind, name}];
  ++t.calls;
  t.seconds += seconds;
}

std::vector<Profiler::Row> Profiler::rows(ProfileKind kind) const {
  std::vector<Row> out;
  for (const auto& [key, total] : totals_) {
    if (key.first == kind) out.push_back(Row{kind, key.second, total.calls, total.seconds});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Row& a, const Row& b) { return a.seconds > b.seconds; });
  return out;
}

std::string Profiler::table(double total_seconds, int max_rows) const {
  std::string s;
  char line[160];
  for (ProfileKind kind : {ProfileKind::Phase, ProfileKind::Layer, ProfileKind::Op}) {
    const std::vector<Row> r = rows(kind);
    if (r.empty()) continue;
    std::snprintf(line, sizeof line, "%-28s %10s %12s %8s\n", profile_kind_name(kind), "calls",
                  "seconds", "share");
    s += line;
    int shown = 0;
    double rest = 0;
    std::int64_t rest_calls = 0;
    for (const Row& row : r) {
      if (shown++ >= max_rows) {
        rest += row.seconds;
        rest_calls += row.calls;
        continue;
      }
      std::snprintf(line, sizeof line, "  %-26s %10lld %12.4f %7.1f%%\n", row.name.c_str(),
                    static_cast<long long>(row.calls), row.seconds,
                    total_seconds > 0 ? 100.0 * row.seconds / total_seconds : 0.0);
      s += line;
    }
    if (rest_calls > 0) {
      std::snprintf(line, sizeof line, "  %-26s %10lld %12.4f %7.1f%%\n", "(the rest)",
                    static_cast<long long>(rest_calls), rest,
                    total_seconds > 0 ? 100.0 * rest / total_seconds : 0.0);
      s += line;
    }
  }
  std::snprintf(line, sizeof line, "total (wall) %.4f s", total_seconds);
  s += line;
  if (untimed_ > 0) {
    std::snprintf(line, sizeof line, "; %lld GPU scopes untimed (event pool empty while frozen)",
                  static_cast<long long>(untimed_));
    s += line;
  }
  return s + "\n";
}

ProfileScope::ProfileScope(Context& ctx, ProfileKind kind, const char* name)
    : ctx_(ctx), profiler_(ctx.profiler()) {
  if (profiler_ != nullptr) profiler_->begin(ctx_, kind, name);
}

ProfileScope::~ProfileScope() {
  if (profiler_ != nullptr) profiler_->end(ctx_);
}

}  // namespace rp
