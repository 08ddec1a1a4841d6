// robustprior attack: adversarial examples for chosen test images, as a labelled PNG grid -
// the clean image with its true and predicted class, the perturbation magnified, and the
// adversarial image with its prediction - and a JSON file with the numbers.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "engine/adv/objective.h"
#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/core/rng_streams.h"
#include "engine/figures/figure_files.h"
#include "engine/figures/grid.h"
#include "tools/robustprior/checkpoint_session.h"
#include "tools/robustprior/commands.h"
#include "tools/robustprior/list_flags.h"

namespace rp::cli {
namespace {

struct AttackOptions {
  SessionOptions session;
  AttackFlags attack;
  std::string images, target, out = "attack";
  bool targeted = false;
  std::int64_t count = 8, scale = 3;
  double magnify = 0;  // 0: automatic
  double dpi = kDefaultDpi;
  std::uint64_t seed = 0;
};

std::vector<std::int64_t> chosen_images(const AttackOptions& o, std::int64_t available) {
  std::vector<std::int64_t> idx;
  if (!o.images.empty()) {
    idx = parse_indices(o.images, "attack", "--images");
    for (std::int64_t v : idx) {
      RP_CHECK(v < available, "attack",
               "--images: image " << v << " is outside the split's " << available << " images");
    }
  } else {
    RP_CHECK(o.count >= 1, "attack", "--count must be >= 1, found " << o.count);
    for (std::int64_t i = 0; i < std::min(o.count, available); ++i) idx.push_back(i);
  }
  RP_CHECK(!idx.empty() && idx.size() <= 256, "attack",
           "choose 1 to 256 images, found " << idx.size());
  return idx;
}

std::vector<float> host_floats(const Tensor& t) {
  if (t.dtype() == DType::F32) return t.to_vector<float>();
  const std::vector<double> d = t.to_vector<double>();
  return std::vector<float>(d.begin(), d.end());
}

struct Prediction {
  std::int64_t cls;
  double prob;
};

std::vector<Prediction> predictions(const Tensor& logits) {
  const std::vector<float> z = host_floats(logits);
  const std::int64_t n = logits.size(0), k = logits.size(1);
  std::vector<Prediction> out;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = z.data() + i * k;
    const std::int64_t best = std::max_element(row, row + k) - row;
    double sum = 0;
    for (std::int64_t j = 0; j < k; ++j) sum += std::exp(static_cast<double>(row[j] - row[best]));
    out.push_back({best, 1.0 / sum});
  }
  return out;
}

std::string percent(double p) {
  return std::to_string(static_cast<int>(std::lround(100 * p))) + "%";
}

void run_attack(const AttackOptions& o) {
  const AttackParams params = o.attack.params("attack");
  RP_CHECK(o.scale >= 1 && o.scale <= 16, "attack",
           "--scale must be in [1, 16], found " << o.scale);
  RP_CHECK(o.dpi >= kMinDpi && o.dpi <= kMaxDpi, "attack",
           "--dpi must be in [" << kMinDpi << ", " << kMaxDpi << "], found " << o.dpi);
  RP_CHECK(o.magnify >= 0 && std::isfinite(o.magnify), "attack", "--magnify must be >= 0");
  RP_CHECK(!o.targeted || !o.target.empty(), "attack",
           "a targeted attack needs a target: --target CLASS (a class name or index)");
  CheckpointSession s = open_session(o.session, "attack");
  const std::vector<std::string>& classes = s.checkpoint->info().class_names;
  const bool targeted = !o.target.empty();
  const std::int32_t target = targeted ? class_index(o.target, classes, "attack", "--target") : -1;
  const std::vector<std::int64_t> idx = chosen_images(o, s.split.size());
  const std::int64_t n = static_cast<std::int64_t>(idx.size());
  const NetworkSpec& spec = s.net->spec();
  const std::int64_t d = spec.channels * spec.image_h * spec.image_w;

  Context& ctx = *s.ctx;
  std::vector<float> pixels(static_cast<std::size_t>(n * d));
  std::vector<std::int32_t> labels, targets(static_cast<std::size_t>(n), target);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint8_t* src = s.split.images.data() + idx[static_cast<std::size_t>(i)] * d;
    for (std::int64_t k = 0; k < d; ++k)
      pixels[static_cast<std::size_t>(i * d + k)] = static_cast<float>(src[k]) / 255.f;
    labels.push_back(s.split.labels[static_cast<std::size_t>(idx[static_cast<std::size_t>(i)])]);
  }
  const Shape shape{n, spec.channels, spec.image_h, spec.image_w};
  Tensor x = Tensor::from_vector(pixels, shape, ctx.device());
  if (spec.dtype == DType::F64)
    x = Tensor::from_vector(std::vector<double>(pixels.begin(), pixels.end()), shape, ctx.device());
  const Tensor y = Tensor::from_vector(labels, Shape{n}, ctx.device());
  const Tensor t = Tensor::from_vector(targets, Shape{n}, ctx.device());

  s.net->prepare(ctx, n);
  s.net->forward(ctx, x, ForwardOptions{});
  const std::vector<Prediction> clean = predictions(s.net->logits());
  PgdAttack pgd(*s.net, ctx.device(), n);
  CrossEntropyObjective objective(targeted ? t : y, targeted);
  const RngStream rng{o.seed, rng_stream(RngPurpose::RandomStart, 0), 0};
  const Tensor adv = pgd.run(ctx, x, objective, params, rng).to(Device::cpu());
  s.net->forward(ctx, adv.to(ctx.device()), ForwardOptions{});
  const std::vector<Prediction> attacked = predictions(s.net->logits());
  const std::vector<float> adv_pixels = host_floats(adv);

  // The perturbation, shown as 0.5 + magnify * delta.
  double max_abs = 0;
  for (std::size_t k = 0; k < pixels.size(); ++k)
    max_abs = std::max(max_abs, std::abs(static_cast<double>(adv_pixels[k] - pixels[k])));
  const double magnify = o.magnify > 0                                        ? o.magnify
                         : params.norm == ThreatModel::Linf && params.eps > 0 ? 0.5 / params.eps
                         : max_abs > 0                                        ? 0.5 / max_abs
                                                                              : 1.0;
  Figure fig;
  fig.channels = spec.channels;
  fig.height = spec.image_h;
  fig.width = spec.image_w;
  fig.scale = static_cast<double>(o.scale);
  std::ostringstream title;
  title << spec.arch << ": " << (targeted ? "targeted " : "") << "L" << o.attack.constraint
        << " eps " << o.attack.eps << ", PGD-" << params.steps;
  fig.title = title.str();
  FigureRow clean_row{"clean", {}},
      delta_row{"perturbation\nx" + std::to_string(static_cast<int>(std::lround(magnify))), {}},
      adv_row{"adversarial", {}};
  nlohmann::json per_image = nlohmann::json::array();
  int clean_correct = 0, adv_correct = 0, hit = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto at = static_cast<std::size_t>(i);
    const std::vector<float> c(pixels.begin() + i * d, pixels.begin() + (i + 1) * d);
    const std::vector<float> a(adv_pixels.begin() + i * d, adv_pixels.begin() + (i + 1) * d);
    std::vector<float> delta(static_cast<std::size_t>(d));
    double l2 = 0, linf = 0;
    for (std::int64_t k = 0; k < d; ++k) {
      const double v =
          static_cast<double>(a[static_cast<std::size_t>(k)] - c[static_cast<std::size_t>(k)]);
      delta[static_cast<std::size_t>(k)] = static_cast<float>(0.5 + magnify * v);
      l2 += v * v;
      linf = std::max(linf, std::abs(v));
    }
    l2 = std::sqrt(l2);
    const bool clean_ok = clean[at].cls == labels[at], adv_ok = attacked[at].cls == labels[at];
    clean_correct += clean_ok;
    adv_correct += adv_ok;
    hit += targeted && attacked[at].cls == target;
    clean_row.cells.push_back({c,
                               "true " + classes[static_cast<std::size_t>(labels[at])] + "\npred " +
                                   classes[static_cast<std::size_t>(clean[at].cls)] + " " +
                                   percent(clean[at].prob),
                               clean_ok ? kGreen : kRed});
    char norms[64];
    std::snprintf(norms, sizeof norms, "L2 %.3f\nLinf %.4f", l2, linf);
    delta_row.cells.push_back({delta, norms, kBlack});
    adv_row.cells.push_back({a,
                             "pred " + classes[static_cast<std::size_t>(attacked[at].cls)] + " " +
                                 percent(attacked[at].prob),
                             adv_ok ? kGreen : kRed});
    per_image.push_back(
        {{"index", idx[at]},
         {"true", classes[static_cast<std::size_t>(labels[at])]},
         {"clean_prediction", classes[static_cast<std::size_t>(clean[at].cls)]},
         {"clean_probability", clean[at].prob},
         {"adversarial_prediction", classes[static_cast<std::size_t>(attacked[at].cls)]},
         {"adversarial_probability", attacked[at].prob},
         {"perturbation_l2", l2},
         {"perturbation_linf", linf}});
  }
  fig.rows = {clean_row, delta_row, adv_row};
  std::ostringstream note;
  note << "correct: " << clean_correct << "/" << n << " clean, " << adv_correct << "/" << n
       << " adversarial"
       << (targeted ? ", " + std::to_string(hit) + " reached " +
                          classes[static_cast<std::size_t>(target)]
                    : "")
       << ". Perturbation shown as 0.5 + " << static_cast<int>(std::lround(magnify)) << " x delta.";
  fig.notes = {note.str(), "checkpoint " + o.session.checkpoint};
  fig.legend = {{kGreen, "predicted correctly"}, {kRed, "predicted wrongly"}};
  const FigureFiles files = write_figure_files(layout_figure(fig), figure_stem(o.out), o.dpi);
  const nlohmann::json j = {{"checkpoint", o.session.checkpoint},
                            {"figure",
                             {{"png", files.png},
                              {"pdf", files.pdf},
                              {"svg", files.svg},
                              {"png_size", {files.png_width, files.png_height}}}},
                            {"attack",
                             {{"constraint", o.attack.constraint},
                              {"eps", o.attack.eps},
                              {"steps", params.steps},
                              {"step", params.step},
                              {"restarts", params.restarts},
                              {"random_start", params.random_start},
                              {"use_best", params.use_best},
                              {"targeted", targeted},
                              {"target", targeted ? classes[static_cast<std::size_t>(target)] : ""},
                              {"seed", o.seed}}},
                            {"clean_correct", clean_correct},
                            {"adversarial_correct", adv_correct},
                            {"images", per_image}};
  const std::string json_path = figure_stem(o.out) + ".json";
  write_file_atomic(json_path, j.dump(2) + "\n");
  std::printf("%d/%lld correct clean, %d/%lld adversarial; figure %s, numbers %s\n", clean_correct,
              static_cast<long long>(n), adv_correct, static_cast<long long>(n), files.pdf.c_str(),
              json_path.c_str());
}

}  // namespace

void add_attack_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "attack", "Adversarial examples for chosen images, as a labelled PNG grid and JSON");
  auto o = std::make_shared<AttackOptions>();
  o->session.add_to(cmd);
  o->attack.add_to(cmd);
  cmd->add_option("--images", o->images, "comma-separated image indices of the split");
  cmd->add_option("--count", o->count, "without --images: the first N images")
      ->capture_default_str();
  cmd->add_option("--target", o->target, "targeted attack towards this class (name or index)");
  cmd->add_flag("--targeted", o->targeted, "Targeted attack (needs --target; --target implies it)");
  cmd->add_option("--out", o->out,
                  "the figure's path without extension: .pdf, .svg and .png are written, and "
                  "the numbers as .json")
      ->capture_default_str();
  cmd->add_option("--scale", o->scale, "points per image pixel")->capture_default_str();
  cmd->add_option("--dpi", o->dpi, "the PNG's resolution")->capture_default_str();
  cmd->add_option("--magnify", o->magnify, "perturbation magnification (0: automatic)");
  cmd->add_option("--seed", o->seed, "seed of the random starts")->capture_default_str();
  cmd->callback([o] { run_attack(*o); });
}

}  // namespace rp::cli
