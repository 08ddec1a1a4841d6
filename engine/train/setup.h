// From a TrainConfig to the things a run is made of: the dataset request, the network spec
// (classes, image shape and normalization come from the data) and the context.
#pragma once

#include <memory>

#include "engine/adv/pgd.h"
#include "engine/core/context.h"
#include "engine/data/load.h"
#include "engine/nn/network.h"
#include "engine/train/config.h"

namespace rp {

DatasetRequest dataset_request(const TrainConfig& c);
NetworkSpec network_spec(const TrainConfig& c, const Dataset& train);
std::unique_ptr<Context> make_context(const TrainConfig& c);

// The attack of adversarial training: pgd (attack-steps steps of attack-lr, by default
// 2.5 eps/steps) or fgsm-rs (one step, by default 1.25 eps, from a uniform random start; the
// last iterate).
AttackParams training_attack(const TrainConfig& c);
// The short robust evaluation after each epoch: PGD of robust-eval-steps, step 2.5 eps/steps.
AttackParams robust_eval_attack(const TrainConfig& c);

// Throws rp::Error when a dataset does not fit a network (class count, image shape).
void check_dataset_fits(const NetworkSpec& spec, const Dataset& d, const std::string& what);

}  // namespace rp
