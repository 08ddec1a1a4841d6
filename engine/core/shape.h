// A tensor's logical extents, outermost first. For images always (N, C, H, W), whatever the
// memory layout (see Layout in tensor.h).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>

namespace rp {

class Shape {
 public:
  static constexpr int kMaxRank = 6;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);  // throws rp::Error on a negative extent
  template <typename It>
  static Shape from_range(It first, It last) {
    Shape s;
    for (; first != last; ++first) s.push_back(static_cast<std::int64_t>(*first));
    return s;
  }

  int rank() const { return rank_; }
  std::int64_t operator[](int i) const;  // negative i counts from the end
  std::int64_t numel() const;            // 1 for rank 0
  // Elements per index of dimension 0: numel() / dims[0] ("per example" for a batch).
  std::int64_t inner_numel() const;
  void push_back(std::int64_t extent);
  Shape with_dim(int i, std::int64_t extent) const;

  const std::int64_t* begin() const { return dims_.data(); }
  const std::int64_t* end() const { return dims_.data() + rank_; }

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "[2,3,32,32]"

 private:
  std::array<std::int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Shape& s);

}  // namespace rp
