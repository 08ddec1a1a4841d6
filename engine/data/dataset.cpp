#include "engine/data/dataset.h"

#include <cmath>

#include "engine/core/error.h"

namespace rp {

void Dataset::validate() const {
  const std::string op = "dataset " + name;
  RP_CHECK(!classes.empty(), op, "has no classes");
  RP_CHECK(channels >= 1 && height >= 1 && width >= 1, op,
           "bad image shape (" << channels << ", " << height << ", " << width << ")");
  RP_CHECK(static_cast<std::int64_t>(images.size()) == size() * image_elements(), op,
           "holds " << images.size() << " bytes of images for " << size() << " labels of "
                    << image_elements() << " bytes each");
  const auto k = static_cast<std::int64_t>(classes.size());
  for (std::int64_t i = 0; i < size(); ++i) {
    RP_CHECK(labels[static_cast<std::size_t>(i)] >= 0 && labels[static_cast<std::size_t>(i)] < k,
             op,
             "label " << labels[static_cast<std::size_t>(i)] << " of example " << i
                      << " is outside its " << k << " classes");
  }
}

ChannelStats channel_stats(const Dataset& d) {
  ChannelStats s;
  const std::int64_t plane = d.height * d.width;
  for (std::int64_t c = 0; c < d.channels; ++c) {
    double sum = 0, sq = 0;
    for (std::int64_t i = 0; i < d.size(); ++i) {
      const std::uint8_t* p = d.images.data() + (i * d.channels + c) * plane;
      for (std::int64_t k = 0; k < plane; ++k) {
        const double v = p[k] / 255.0;
        sum += v;
        sq += v * v;
      }
    }
    const double n = static_cast<double>(d.size() * plane);
    const double mean = n > 0 ? sum / n : 0.5;
    const double var = n > 0 ? sq / n - mean * mean : 0.0;
    s.mean.push_back(mean);
    s.std.push_back(std::sqrt(std::max(var, 1e-6)));  // a flat channel must not divide by 0
  }
  return s;
}

Dataset take(const Dataset& d, std::int64_t n) {
  if (n <= 0 || n >= d.size()) return d;
  Dataset out = d;
  out.labels.resize(static_cast<std::size_t>(n));
  out.images.resize(static_cast<std::size_t>(n * d.image_elements()));
  return out;
}

DeviceDataset to_device(const Dataset& d, Device device) {
  d.validate();
  DeviceDataset out;
  const Shape shape{d.size(), d.channels, d.height, d.width};
  out.images = Tensor::empty(shape, DType::U8, device);
  out.images.copy_from(
      Tensor::wrap(const_cast<std::uint8_t*>(d.images.data()), shape, DType::U8, Device::cpu()));
  out.labels = Tensor::from_vector(d.labels, Shape{d.size()}, device);
  return out;
}

}  // namespace rp
