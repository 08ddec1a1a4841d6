#include "engine/core/shape.h"

#include <ostream>

#include "engine/core/error.h"

namespace rp {

Shape::Shape(std::initializer_list<std::int64_t> dims) {
  for (std::int64_t d : dims) push_back(d);
}

void Shape::push_back(std::int64_t extent) {
  RP_CHECK(rank_ < kMaxRank, "Shape", "rank above the maximum of " << kMaxRank);
  RP_CHECK(extent >= 0, "Shape", "negative extent " << extent << " in dimension " << rank_);
  dims_[static_cast<std::size_t>(rank_++)] = extent;
}

std::int64_t Shape::operator[](int i) const {
  const int j = i < 0 ? i + rank_ : i;
  RP_CHECK(j >= 0 && j < rank_, "Shape", "dimension " << i << " out of range for " << str());
  return dims_[static_cast<std::size_t>(j)];
}

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (int i = 0; i < rank_; ++i) {
    RP_CHECK(!__builtin_mul_overflow(n, dims_[static_cast<std::size_t>(i)], &n), "Shape",
             "element count of " << str() << " overflows 64 bits");
  }
  return n;
}

std::int64_t Shape::inner_numel() const {
  std::int64_t n = 1;
  for (int i = 1; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
  return n;
}

Shape Shape::with_dim(int i, std::int64_t extent) const {
  const int j = i < 0 ? i + rank_ : i;
  RP_CHECK(j >= 0 && j < rank_, "Shape", "dimension " << i << " out of range for " << str());
  RP_CHECK(extent >= 0, "Shape", "negative extent " << extent);
  Shape s = *this;
  s.dims_[static_cast<std::size_t>(j)] = extent;
  return s;
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i) {
    if (dims_[static_cast<std::size_t>(i)] != o.dims_[static_cast<std::size_t>(i)]) return false;
  }
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ",";
    s += std::to_string(dims_[static_cast<std::size_t>(i)]);
  }
  return s + "]";
}

std::ostream& operator<<(std::ostream& os, const Shape& s) {
  return os << s.str();
}

}  // namespace rp
