#include "engine/train/setup.h"

#include "engine/core/error.h"

namespace rp {

DatasetRequest dataset_request(const TrainConfig& c) {
  DatasetRequest r;
  r.kind = c.dataset;
  r.dir = c.data;
  r.synthetic_train = c.synthetic_train;
  r.synthetic_test = c.synthetic_test;
  r.synthetic_seed = c.synthetic_seed;
  r.synthetic_kind = c.synthetic_kind;
  r.synthetic_colours = c.synthetic_colours;
  r.train_subset = c.train_subset;
  r.test_subset = c.test_subset;
  return r;
}

NetworkSpec network_spec(const TrainConfig& c, const Dataset& train) {
  NetworkSpec s;
  s.arch = c.arch;
  s.width = c.width;
  s.num_classes = static_cast<std::int64_t>(train.classes.size());
  s.channels = train.channels;
  s.image_h = train.height;
  s.image_w = train.width;
  const ChannelStats norm = normalization_for(train);
  s.mean = norm.mean;
  s.std = norm.std;
  return s;
}

std::unique_ptr<Context> make_context(const TrainConfig& c) {
  return std::make_unique<Context>(
      ContextOptions{Device::parse(c.device), c.seed, static_cast<int>(c.threads), c.tf32});
}

AttackParams training_attack(const TrainConfig& c) {
  AttackParams p;
  const bool fgsm = c.adv == "fgsm-rs";
  p.norm = parse_threat_model(c.constraint);
  p.eps = c.eps.value("config: 'eps'");
  p.steps = fgsm ? 1 : c.attack_steps;
  p.step = !c.attack_lr.empty() ? c.attack_lr.value("config: 'attack-lr'")
                                : (fgsm ? 1.25 * p.eps : default_step(p.eps, p.steps));
  p.random_start = fgsm || c.random_start;
  p.use_best = !fgsm && c.use_best;
  validate(p);
  return p;
}

AttackParams robust_eval_attack(const TrainConfig& c) {
  AttackParams p;
  p.norm = parse_threat_model(c.constraint);
  p.eps = c.eps.value("config: 'eps'");
  p.steps = c.robust_eval_steps;
  p.step = default_step(p.eps, p.steps);
  validate(p);
  return p;
}

void check_dataset_fits(const NetworkSpec& spec, const Dataset& d, const std::string& what) {
  RP_CHECK(static_cast<std::int64_t>(d.classes.size()) == spec.num_classes, what,
           "the model has " << spec.num_classes << " classes but dataset " << d.name << " ("
                            << d.source << ") has " << d.classes.size());
  RP_CHECK(d.channels == spec.channels && d.height == spec.image_h && d.width == spec.image_w, what,
           "the model takes " << spec.channels << "x" << spec.image_h << "x" << spec.image_w
                              << " images but dataset " << d.name << " has " << d.channels << "x"
                              << d.height << "x" << d.width);
}

}  // namespace rp
