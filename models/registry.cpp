#include "models/registry.h"

#include <sstream>

#include "engine/core/error.h"
#include "models/preact_resnet.h"
#include "models/resnet.h"

namespace rp {

const std::vector<std::string>& architectures() {
  static const std::vector<std::string> names{
      "resnet18",          "resnet34",          "resnet50",         "preact_resnet18",
      "imagenet_resnet18", "imagenet_resnet50", "wide_resnet28_10", "wide_resnet34_10"};
  return names;
}

namespace {

std::unique_ptr<Network> build(const NetworkSpec& spec, const BuildTarget& target) {
  if (spec.arch == "preact_resnet18") return make_preact_resnet18(spec, target);
  if (spec.arch == "wide_resnet28_10" || spec.arch == "wide_resnet34_10") {
    return make_wide_resnet(spec, target);
  }
  if (spec.arch == "resnet18" || spec.arch == "resnet34" || spec.arch == "resnet50" ||
      spec.arch == "imagenet_resnet18" || spec.arch == "imagenet_resnet50") {
    return make_resnet(spec, target);
  }
  std::ostringstream known;
  for (const std::string& a : architectures()) known << " " << a;
  RP_FAIL("make_network", "unknown architecture '" << spec.arch << "'; known:" << known.str());
}

}  // namespace

std::unique_ptr<Network> make_network(const NetworkSpec& spec, Device device, std::uint64_t seed) {
  return build(spec, BuildTarget{device, seed, false});
}

std::vector<ParamEntry> parameter_plan(const NetworkSpec& spec) {
  return build(spec, BuildTarget{Device::cpu(), 0, true})->parameters().entries();
}

}  // namespace rp
