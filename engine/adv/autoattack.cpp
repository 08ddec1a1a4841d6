#include "engine/adv/autoattack.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>

#include "engine/adv/apgd.h"
#include "engine/adv/fab.h"
#include "engine/adv/objective.h"
#include "engine/adv/square.h"
#include "engine/core/error.h"
#include "engine/core/rng_streams.h"
#include "engine/ops/metrics.h"

namespace rp {
namespace {

// Attack a's draws: its own stream per target class (or restart set), batches at their offsets.
RngStream attack_rng(const EnsembleConfig& c, std::size_t attack, std::int64_t target) {
  return RngStream{c.seed,
                   rng_stream(RngPurpose::RandomStart,
                              (1ull << 40) + (static_cast<std::uint64_t>(attack) << 16) +
                                  static_cast<std::uint64_t>(target)),
                   0};
}

std::vector<double> as_doubles(const Tensor& host) {
  if (host.dtype() == DType::F64) return host.to_vector<double>();
  const std::vector<float> f = host.to_vector<float>();
  return std::vector<double>(f.begin(), f.end());
}

// Rows `rows` of the host tensor `src` into the first rows of the host tensor `dst`.
void gather_rows(const Tensor& src, const std::vector<std::int64_t>& rows, const Tensor& dst) {
  const std::size_t row = src.nbytes() / static_cast<std::size_t>(src.size(0));
  const auto* from = static_cast<const unsigned char*>(src.raw_data());
  auto* to = static_cast<unsigned char*>(dst.raw_data());
  for (std::size_t j = 0; j < rows.size(); ++j) {
    std::memcpy(to + j * row, from + static_cast<std::size_t>(rows[j]) * row, row);
  }
}

// ||a_i - b_i|| in the threat model's norm, per row, in double.
std::vector<double> perturbation_norms(const std::vector<double>& a, const std::vector<double>& b,
                                       std::int64_t n, ThreatModel norm) {
  const std::size_t d = a.size() / static_cast<std::size_t>(n);
  std::vector<double> out(static_cast<std::size_t>(n), 0.0);
  for (std::size_t i = 0; i < out.size(); ++i) {
    double acc = 0;
    for (std::size_t j = i * d; j < (i + 1) * d; ++j) {
      const double v = std::abs(a[j] - b[j]);
      acc = norm == ThreatModel::L2 ? acc + v * v : std::max(acc, v);
    }
    out[i] = norm == ThreatModel::L2 ? std::sqrt(acc) : acc;
  }
  return out;
}

FabParams fab_params(const EnsembleConfig& c) {
  FabParams p;
  p.norm = c.norm;
  p.eps = c.eps;
  p.iterations = c.fab_iterations;
  p.targets = c.targets;
  return p;
}

// The attacks of one evaluation, planned for the loader's batch size.
class Ensemble {
 public:
  Ensemble(Context& ctx, Network& net, std::int64_t batch, const EnsembleConfig& c)
      : net_(net), c_(c) {
    const NetworkSpec& s = net.spec();
    const Device dev = ctx.device();
    const Shape image{batch, s.channels, s.image_h, s.image_w};
    x_ = Tensor::empty(image, s.dtype, dev);
    y_ = Tensor::empty(Shape{batch}, DType::I32, dev);
    targets_ = Tensor::empty(Shape{batch}, DType::I32, dev);
    flags_ = Tensor::empty(Shape{batch}, s.dtype, dev);
    host_x_ = Tensor::empty(image, s.dtype);
    host_y_ = Tensor::empty(Shape{batch}, DType::I32);
    for (AttackName a : c.attacks) {
      if (a == AttackName::Pgd && !pgd_) pgd_ = std::make_unique<PgdAttack>(net, dev, batch);
      if ((a == AttackName::ApgdCe || a == AttackName::ApgdT) && !apgd_) {
        apgd_ = std::make_unique<ApgdAttack>(net, dev, batch);
      }
      if (a == AttackName::FabT && !fab_) fab_ = std::make_unique<FabAttack>(net, dev, batch);
      if (a == AttackName::Square && !square_) {
        square_ = std::make_unique<SquareAttack>(net, dev, batch);
      }
    }
  }

  // Attacks the m examples in the first rows of x_, y_ (and host_x_, host_y_) with attack
  // `index`; returns the adversarial candidates (m rows, on the device).
  Tensor attack(Context& ctx, std::size_t index, std::int64_t m, std::int64_t batch_index,
                std::int64_t& image_iterations) {
    const Tensor x = x_.slice(0, m), y = y_.slice(0, m);
    const std::uint64_t offset =
        static_cast<std::uint64_t>(batch_index) * static_cast<std::uint64_t>(x_.numel()) *
        static_cast<std::uint64_t>(std::max<std::int64_t>({c_.apgd_restarts, c_.pgd.restarts, 1}));
    const auto rng = [&](std::int64_t target) {
      RngStream r = attack_rng(c_, index, target);
      r.offset = offset;
      return r;
    };
    const ApgdParams ap{c_.norm, c_.eps, c_.apgd_iterations, 0.75, 0.75, c_.apgd_restarts};
    switch (c_.attacks[index]) {
      case AttackName::Pgd: {
        AttackParams p = c_.pgd;
        p.norm = c_.norm;
        p.eps = c_.eps;
        CrossEntropyObjective objective(y, false);
        const Tensor& adv = pgd_->run(ctx, x, objective, p, rng(0));
        image_iterations += m * p.steps * p.restarts;
        return adv;
      }
      case AttackName::ApgdCe: {
        apgd_->begin(ctx, x, y);
        CrossEntropyObjective objective(y, false);
        apgd_->run(ctx, objective, ap, rng(0));
        image_iterations += apgd_->image_iterations();
        return apgd_->adversarial();
      }
      case AttackName::ApgdT: {
        // The targets: the clean image's classes ranked 2nd, 3rd, ... by its logits.
        net_.forward(ctx, x, ForwardOptions{BnMode::Eval, false, true});
        const std::int64_t k = net_.spec().num_classes;
        const std::vector<double> logits = as_doubles(net_.logits().to(Device::cpu()));
        std::vector<std::vector<std::int32_t>> ranked(static_cast<std::size_t>(m));
        for (std::int64_t i = 0; i < m; ++i) {
          std::vector<std::int32_t>& r = ranked[static_cast<std::size_t>(i)];
          r.resize(static_cast<std::size_t>(k));
          std::iota(r.begin(), r.end(), 0);
          const double* row = logits.data() + i * k;
          std::stable_sort(r.begin(), r.end(),
                           [&](std::int32_t a, std::int32_t b) { return row[a] > row[b]; });
        }
        apgd_->begin(ctx, x, y);
        for (std::int64_t t = 1; t <= c_.targets; ++t) {
          std::vector<std::int32_t> target(static_cast<std::size_t>(m));
          for (std::int64_t i = 0; i < m; ++i) {
            target[static_cast<std::size_t>(i)] =
                ranked[static_cast<std::size_t>(i)][static_cast<std::size_t>(t)];
          }
          ctx.copy(targets_.slice(0, m), Tensor::from_vector(target, Shape{m}));
          DlrObjective objective(y, targets_.slice(0, m));
          apgd_->run(ctx, objective, ap, rng(t));
        }
        image_iterations += apgd_->image_iterations();
        return apgd_->adversarial();
      }
      case AttackName::Square: {
        // Its draws per batch on their own stream: a run uses far more than one image's worth.
        const RngStream draw{c_.seed,
                             rng_stream(RngPurpose::RandomStart,
                                        (2ull << 40) + (static_cast<std::uint64_t>(index) << 32) +
                                            static_cast<std::uint64_t>(batch_index)),
                             0};
        square_->run(ctx, x, y, SquareParams{c_.norm, c_.eps, c_.square_queries, c_.square_p_init},
                     draw);
        image_iterations += m * square_->queries_run();
        return square_->adversarial();
      }
      case AttackName::FabT: {
        // Deterministic: one restart from the clean point draws nothing.
        fab_->run(ctx, x, y, fab_params(c_));
        image_iterations += fab_->image_iterations();
        return fab_->adversarial();
      }
    }
    RP_FAIL("autoattack", attack_name(c_.attacks[index]) << " is not implemented");
  }

  EnsembleResult run(Context& ctx, BatchLoader& loader) {
    EnsembleResult r;
    for (AttackName a : c_.attacks) {
      AttackReport rep;
      rep.name = a;
      r.attacks.push_back(rep);
    }
    const auto start = std::chrono::steady_clock::now();
    loader.start_epoch(0);
    for (std::int64_t bi = 0; bi < loader.batches(); ++bi) {
      const std::int64_t n = loader.load(ctx, bi, x_, y_);
      const Tensor clean_x = x_.slice(0, n).to(Device::cpu());
      const std::vector<std::int32_t> labels =
          y_.slice(0, n).to(Device::cpu()).to_vector<std::int32_t>();
      net_.forward(ctx, x_.slice(0, n), ForwardOptions{BnMode::Eval, false, true});
      correct_flags(ctx, net_.logits(), y_.slice(0, n), flags_.slice(0, n));
      const std::vector<double> clean = as_doubles(flags_.slice(0, n).to(Device::cpu()));
      const std::size_t first = r.outcomes.size();
      std::vector<std::int64_t> standing;
      for (std::int64_t i = 0; i < n; ++i) {
        ExampleOutcome o;
        o.label = labels[static_cast<std::size_t>(i)];
        o.clean_correct = clean[static_cast<std::size_t>(i)] != 0;
        r.outcomes.push_back(o);
        if (o.clean_correct) standing.push_back(i);
      }
      const Tensor host_labels = Tensor::from_vector(labels, Shape{n});
      for (std::size_t a = 0; a < c_.attacks.size() && !standing.empty(); ++a) {
        const auto t0 = std::chrono::steady_clock::now();
        const std::int64_t m = static_cast<std::int64_t>(standing.size());
        gather_rows(clean_x, standing, host_x_);
        gather_rows(host_labels, standing, host_y_);
        ctx.copy(x_.slice(0, m), host_x_.slice(0, m));
        ctx.copy(y_.slice(0, m), host_y_.slice(0, m));
        AttackReport& rep = r.attacks[a];
        rep.attacked += m;
        const Tensor adv = attack(ctx, a, m, bi, rep.image_iterations);
        // The verdict: a fresh forward pass of the returned points.
        net_.forward(ctx, adv, ForwardOptions{BnMode::Eval, false, true});
        correct_flags(ctx, net_.logits(), y_.slice(0, m), flags_.slice(0, m));
        const std::vector<double> still = as_doubles(flags_.slice(0, m).to(Device::cpu()));
        const std::vector<double> adv_host = as_doubles(adv.to(Device::cpu()));
        const std::vector<double> x_host = as_doubles(host_x_.slice(0, m));
        const std::vector<double> norms = perturbation_norms(adv_host, x_host, m, c_.norm);
        std::vector<std::int64_t> next;
        for (std::int64_t j = 0; j < m; ++j) {
          const std::size_t jj = static_cast<std::size_t>(j);
          // A point outside the ball would be an engine bug, never a success.
          RP_CHECK(norms[jj] <= c_.eps * (1 + 1e-5) + 1e-6, "autoattack",
                   attack_name(c_.attacks[a])
                       << " returned a perturbation of norm " << norms[jj] << " > eps " << c_.eps);
          if (still[jj] != 0) {
            next.push_back(standing[jj]);
            continue;
          }
          ExampleOutcome& o = r.outcomes[first + static_cast<std::size_t>(standing[jj])];
          o.broken_by = static_cast<int>(a);
          o.norm = norms[jj];
          ++rep.broken;
        }
        standing = std::move(next);
        rep.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.examples = static_cast<std::int64_t>(r.outcomes.size());
    std::int64_t correct = 0;
    for (const ExampleOutcome& o : r.outcomes) correct += o.clean_correct ? 1 : 0;
    const double total = static_cast<double>(std::max<std::int64_t>(r.examples, 1));
    r.clean_accuracy = static_cast<double>(correct) / total;
    std::int64_t standing_after = correct;
    for (AttackReport& rep : r.attacks) {
      standing_after -= rep.broken;
      rep.robust_accuracy = static_cast<double>(standing_after) / total;
    }
    r.robust_accuracy = static_cast<double>(standing_after) / total;
    return r;
  }

 private:
  Network& net_;
  const EnsembleConfig& c_;
  Tensor x_, y_, targets_, flags_;  // on the device, planned for the batch
  Tensor host_x_, host_y_;          // the compacted batch on the host
  std::unique_ptr<PgdAttack> pgd_;
  std::unique_ptr<ApgdAttack> apgd_;
  std::unique_ptr<FabAttack> fab_;
  std::unique_ptr<SquareAttack> square_;
};

}  // namespace

const char* attack_name(AttackName a) {
  switch (a) {
    case AttackName::Pgd:
      return "pgd";
    case AttackName::ApgdCe:
      return "apgd-ce";
    case AttackName::ApgdT:
      return "apgd-t";
    case AttackName::FabT:
      return "fab-t";
    case AttackName::Square:
      return "square";
  }
  return "?";
}

std::vector<AttackName> attack_sequence(const std::string& name, ThreatModel norm) {
  if (name == "autoattack") {
    (void)norm;  // the same sequence for both threat models
    return {AttackName::ApgdCe, AttackName::ApgdT, AttackName::FabT, AttackName::Square};
  }
  for (AttackName a : {AttackName::Pgd, AttackName::ApgdCe, AttackName::ApgdT, AttackName::FabT,
                       AttackName::Square}) {
    if (name == attack_name(a)) return {a};
  }
  RP_FAIL("attack",
          "unknown attack '" << name << "' (pgd, apgd-ce, apgd-t, fab-t, square, autoattack)");
}

void validate(const EnsembleConfig& c, const NetworkSpec& spec) {
  RP_CHECK(!c.attacks.empty(), "autoattack", "no attack to run");
  RP_CHECK(std::isfinite(c.eps) && c.eps >= 0, "autoattack",
           "eps must be a finite value >= 0, found " << c.eps);
  RP_CHECK(c.apgd_iterations >= 1, "autoattack",
           "APGD iterations must be >= 1, found " << c.apgd_iterations);
  RP_CHECK(c.apgd_restarts >= 1, "autoattack",
           "APGD restarts must be >= 1, found " << c.apgd_restarts);
  RP_CHECK(c.square_queries >= 1, "autoattack",
           "Square's queries must be >= 1, found " << c.square_queries);
  RP_CHECK(c.square_p_init > 0 && c.square_p_init <= 1, "autoattack",
           "Square's p_init must lie in (0, 1], found " << c.square_p_init);
  for (AttackName a : c.attacks) {
    if (a == AttackName::Pgd) {
      AttackParams p = c.pgd;
      p.eps = c.eps;
      validate(p);
    }
    if (a == AttackName::Square) {
      validate(SquareParams{c.norm, c.eps, c.square_queries, c.square_p_init});
    }
    if (a == AttackName::FabT) {
      validate(fab_params(c));
      RP_CHECK(c.targets >= 1 && c.targets <= spec.num_classes - 1, "autoattack",
               "fab-t's target classes must lie in [1, " << spec.num_classes - 1
                                                         << "] for a model of " << spec.num_classes
                                                         << " classes, found " << c.targets);
    }
    if (a == AttackName::ApgdT) {
      RP_CHECK(spec.num_classes >= 4, "autoattack",
               "apgd-t's targeted DLR loss needs at least 4 classes, the model has "
                   << spec.num_classes);
      RP_CHECK(c.targets >= 1 && c.targets <= spec.num_classes - 1, "autoattack",
               "apgd-t's target classes must lie in [1, " << spec.num_classes - 1
                                                          << "] for a model of " << spec.num_classes
                                                          << " classes, found " << c.targets);
    }
  }
}

EnsembleResult evaluate_ensemble(Context& ctx, Network& net, BatchLoader& loader,
                                 const EnsembleConfig& c) {
  validate(c, net.spec());
  Ensemble e(ctx, net, loader.batch_size(), c);
  return e.run(ctx, loader);
}

}  // namespace rp
