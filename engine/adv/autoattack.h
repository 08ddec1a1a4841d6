// Robust evaluation with AutoAttack's standard sequence (Croce & Hein, ICML 2020) or any one of
// its attacks: each attack runs only on the examples that every earlier attack left correctly
// classified, and an example counts as broken only when a fresh forward pass of the returned
// point, checked to lie in the threat ball, misclassifies it.
//
//   pgd       the robustness library's PGD (engine/adv/pgd.h), untargeted cross-entropy
//   apgd-ce   APGD on the cross-entropy (engine/adv/apgd.h)
//   apgd-t    APGD on the targeted DLR loss, the `targets` most likely non-true classes of the
//             clean image in turn (9 for CIFAR-10)
//   fab-t     targeted FAB (engine/adv/fab.h), the same `targets` classes in turn, minimizing
//             the perturbation; a success counts within eps
//   square    Square Attack (engine/adv/square.h), forward passes only
//   autoattack  apgd-ce, apgd-t, fab-t, square, as AutoAttack's "standard" version runs them
//
// Batches are the loader's; between attacks the host compacts each batch to the examples still
// standing (a synchronization per attack and batch, outside every attack loop). Every draw is
// fixed by the seed: attack a, target t and batch b draw from their own Philox stream and
// offset, so a result repeats exactly for the same seed, batch size and device.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/adv/pgd.h"
#include "engine/data/loader.h"
#include "engine/nn/network.h"

namespace rp {

enum class AttackName { Pgd, ApgdCe, ApgdT, FabT, Square };
const char* attack_name(AttackName a);  // "pgd", "apgd-ce", "apgd-t", "fab-t", "square"
// The attacks `name` stands for: one attack, or "autoattack" for the standard sequence (of the
// attacks implemented; the same for both threat models). Throws rp::Error listing the names on
// anything else.
std::vector<AttackName> attack_sequence(const std::string& name, ThreatModel norm);

struct EnsembleConfig {
  ThreatModel norm = ThreatModel::Linf;
  double eps = 8.0 / 255;
  std::vector<AttackName> attacks;
  std::int64_t apgd_iterations = 100;
  std::int64_t apgd_restarts = 1;
  std::int64_t targets = 9;  // APGD-T's and FAB-T's target classes (at most classes - 1)
  std::int64_t fab_iterations = 100;
  std::int64_t square_queries = 5000;
  double square_p_init = 0.8;
  AttackParams pgd;  // steps, step, restarts, random start of "pgd" (norm and eps: above)
  std::uint64_t seed = 0;
};
// Throws rp::Error naming the field; checks what the network allows (APGD-T's and FAB-T's
// targets and the classes DLR reads) too.
void validate(const EnsembleConfig& c, const NetworkSpec& spec);

struct ExampleOutcome {
  std::int32_t label = 0;
  bool clean_correct = false;
  int broken_by = -1;  // index into EnsembleConfig::attacks, or -1 (robust, or clean-wrong)
  double norm = 0;     // the breaking perturbation's norm in the threat model's norm
};

struct AttackReport {
  AttackName name = AttackName::Pgd;
  std::int64_t attacked = 0, broken = 0;
  std::int64_t image_iterations = 0;  // forward (+ input-gradient backward) passes per image
  double seconds = 0;
  double robust_accuracy = 0;  // after this attack (over all examples)
};

struct EnsembleResult {
  std::int64_t examples = 0;
  double clean_accuracy = 0, robust_accuracy = 0;
  double seconds = 0;
  std::vector<AttackReport> attacks;
  std::vector<ExampleOutcome> outcomes;  // in the loader's order
};

// Builds the attacks for the loader's batch size (the network must be prepared for it) and
// evaluates every batch.
EnsembleResult evaluate_ensemble(Context& ctx, Network& net, BatchLoader& loader,
                                 const EnsembleConfig& c);

}  // namespace rp
