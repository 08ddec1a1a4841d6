// robustprior eval: a checkpoint's loss and accuracy on a dataset - by default the one it was
// trained on - and, with --adv, its accuracy under a PGD attack, or with --attack under one of
// AutoAttack's attacks or its standard sequence (per-attack robust accuracy, per-example
// outcomes, timings; --eps-sweep for robust accuracy against eps); printed and written as JSON.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "engine/adv/autoattack.h"
#include "engine/adv/robust_eval.h"
#include "engine/core/amount.h"
#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/core/rng_streams.h"
#include "engine/figures/figure_files.h"
#include "engine/figures/run_plots.h"
#include "engine/train/evaluate.h"
#include "tools/robustprior/checkpoint_session.h"
#include "tools/robustprior/commands.h"

namespace rp::cli {
namespace {

struct EvalOptions {
  SessionOptions session;
  AttackFlags attack;
  bool adv = false;
  std::int64_t batch_size = 256;
  std::uint64_t seed = 0;
  std::string json;
  double dpi = kDefaultDpi;
  // AutoAttack (--attack): empty keeps the PGD evaluation above.
  std::string attack_name, eps_sweep;
  std::int64_t apgd_iterations = 100, targets = 9, square_queries = 5000, fab_iterations = 100;
};

// "0,1/255,2/255" -> the amounts as written and their values.
std::vector<std::pair<std::string, double>> parse_eps_list(const std::string& text) {
  std::vector<std::pair<std::string, double>> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, comma - at);
    RP_CHECK(!item.empty(), "eval", "--eps-sweep: empty entry in '" << text << "'");
    const double v = parse_amount(item, "eval: --eps-sweep");
    RP_CHECK(v >= 0, "eval", "--eps-sweep: eps must be >= 0, found " << item);
    out.emplace_back(item, v);
    at = comma + 1;
  }
  return out;
}

nlohmann::json attack_reports(const EnsembleResult& r) {
  nlohmann::json a = nlohmann::json::array();
  for (const AttackReport& rep : r.attacks) {
    a.push_back(
        {{"name", attack_name(rep.name)},
         {"attacked", rep.attacked},
         {"broken", rep.broken},
         {"robust_accuracy", rep.robust_accuracy},
         {"seconds", rep.seconds},
         {"image_iterations", rep.image_iterations},
         {"image_iterations_per_s",
          rep.seconds > 0 ? static_cast<double>(rep.image_iterations) / rep.seconds : 0.0}});
  }
  return a;
}

// The ensemble evaluation: the --eps run in full (outcomes per example), then each sweep eps.
void run_ensemble(const EvalOptions& o, const AttackParams& pgd, CheckpointSession& s,
                  BatchLoader& loader, nlohmann::json& j) {
  Context& ctx = *s.ctx;
  EnsembleConfig c;
  c.norm = pgd.norm;
  c.eps = pgd.eps;
  c.attacks = attack_sequence(o.attack_name, pgd.norm);
  c.apgd_iterations = o.apgd_iterations;
  c.targets = o.targets;
  c.fab_iterations = o.fab_iterations;
  c.square_queries = o.square_queries;
  c.pgd = pgd;
  c.seed = o.seed;
  const std::vector<std::pair<std::string, double>> sweep =
      o.eps_sweep.empty() ? std::vector<std::pair<std::string, double>>{}
                          : parse_eps_list(o.eps_sweep);
  // Every eps is checked before any attack runs.
  for (const auto& [text, value] : sweep) {
    EnsembleConfig e = c;
    e.eps = value;
    e.pgd.eps = value;
    if (o.attack.attack_lr.empty()) e.pgd.step = default_step(value, pgd.steps);
    validate(e, s.net->spec());
  }
  validate(c, s.net->spec());
  const EnsembleResult r = evaluate_ensemble(ctx, *s.net, loader, c);
  std::int64_t iterations = 0;
  nlohmann::json sequence = nlohmann::json::array();
  for (const AttackReport& rep : r.attacks) {
    iterations += rep.image_iterations;
    sequence.push_back(attack_name(rep.name));
  }
  std::printf(
      "%s on %s %s (%lld images): clean accuracy %.2f%%, robust accuracy %.2f%% under L%s "
      "eps %s %s\n",
      o.session.checkpoint.c_str(), s.split.name.c_str(), o.session.split.c_str(),
      static_cast<long long>(r.examples), 100 * r.clean_accuracy, 100 * r.robust_accuracy,
      o.attack.constraint.c_str(), o.attack.eps.c_str(), o.attack_name.c_str());
  for (const AttackReport& rep : r.attacks) {
    std::printf(
        "  %-8s attacked %6lld  broken %6lld  robust accuracy %6.2f%%  %8.2f s  %.1f "
        "image-iterations/s\n",
        attack_name(rep.name), static_cast<long long>(rep.attacked),
        static_cast<long long>(rep.broken), 100 * rep.robust_accuracy, rep.seconds,
        rep.seconds > 0 ? static_cast<double>(rep.image_iterations) / rep.seconds : 0.0);
  }
  nlohmann::json outcomes = nlohmann::json::array();
  for (std::size_t i = 0; i < r.outcomes.size(); ++i) {
    const ExampleOutcome& e = r.outcomes[i];
    outcomes.push_back(
        {{"index", i},
         {"label", e.label},
         {"clean_correct", e.clean_correct},
         {"broken_by",
          e.broken_by >= 0
              ? nlohmann::json(attack_name(r.attacks[static_cast<std::size_t>(e.broken_by)].name))
              : nlohmann::json(nullptr)},
         {"norm", e.norm}});
  }
  nlohmann::json attack = {
      {"name", o.attack_name}, {"sequence", sequence}, {"constraint", o.attack.constraint},
      {"eps", o.attack.eps},   {"eps_value", c.eps},   {"apgd_iterations", c.apgd_iterations},
      {"targets", c.targets},  {"seed", o.seed}};
  if (std::find(c.attacks.begin(), c.attacks.end(), AttackName::FabT) != c.attacks.end()) {
    attack["fab_iterations"] = c.fab_iterations;
  }
  if (o.attack_name == "pgd") {
    attack.update({{"steps", pgd.steps},
                   {"step", pgd.step},
                   {"restarts", pgd.restarts},
                   {"random_start", pgd.random_start},
                   {"use_best", pgd.use_best}});
  }
  j.update({{"examples", r.examples},
            {"clean_accuracy", r.clean_accuracy},
            {"robust_accuracy", r.robust_accuracy},
            {"seconds", r.seconds},
            {"image_iterations_per_s",
             r.seconds > 0 ? static_cast<double>(iterations) / r.seconds : 0.0},
            {"attack", attack},
            {"attacks", attack_reports(r)},
            {"outcomes", outcomes}});
  if (sweep.empty()) return;
  nlohmann::json table = nlohmann::json::array();
  std::printf("  robust accuracy against eps (L%s, %s):\n", o.attack.constraint.c_str(),
              o.attack_name.c_str());
  for (const auto& [text, value] : sweep) {
    EnsembleConfig e = c;
    e.eps = value;
    e.pgd.eps = value;
    if (o.attack.attack_lr.empty()) e.pgd.step = default_step(value, pgd.steps);
    const EnsembleResult sr = evaluate_ensemble(ctx, *s.net, loader, e);
    std::printf("    eps %-10s %6.2f%%\n", text.c_str(), 100 * sr.robust_accuracy);
    table.push_back({{"eps", text},
                     {"eps_value", value},
                     {"robust_accuracy", sr.robust_accuracy},
                     {"seconds", sr.seconds},
                     {"attacks", attack_reports(sr)}});
  }
  j["eps_sweep"] = table;
}

// The sweep as a table (CSV) and a plot beside the JSON: <stem>.eps_sweep.csv/.pdf/.svg/.png.
void write_eps_sweep(const EvalOptions& o, const nlohmann::json& j, const std::string& json_path) {
  std::string stem = json_path;
  if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".json") == 0)
    stem.resize(stem.size() - 5);
  stem += ".eps_sweep";
  EpsCurve curve;
  curve.name = std::filesystem::path(o.session.checkpoint).filename().string();
  std::ostringstream csv;
  csv << "eps,robust_accuracy,seconds\n";
  for (const nlohmann::json& row : j.at("eps_sweep")) {
    curve.eps.push_back(row.at("eps_value").get<double>());
    curve.robust_accuracy.push_back(row.at("robust_accuracy").get<double>());
    csv << row.at("eps").get<std::string>() << "," << row.at("robust_accuracy").get<double>() << ","
        << row.at("seconds").get<double>() << "\n";
  }
  const std::string threat = "L" + o.attack.constraint + ", " + o.attack_name;
  const FigureFiles f =
      write_figure_files(layout_plot(eps_sweep_plot({curve}, threat)), stem, o.dpi);
  write_file_atomic(stem + ".csv", csv.str());
  std::printf("robust accuracy against eps: %s.csv, %s, %s, %s\n", stem.c_str(), f.pdf.c_str(),
              f.svg.c_str(), f.png.c_str());
}

void run_eval(const EvalOptions& o) {
  RP_CHECK(o.batch_size >= 1 && o.batch_size <= 65536, "eval",
           "--batch-size must be in [1, 65536], found " << o.batch_size);
  RP_CHECK(o.dpi >= kMinDpi && o.dpi <= kMaxDpi, "eval",
           "--dpi must be in [" << kMinDpi << ", " << kMaxDpi << "], found " << o.dpi);
  // Everything the flags say is checked before the data is read.
  std::optional<AttackParams> attack;
  if (o.adv) attack = o.attack.params("eval");
  RP_CHECK(o.adv || (o.attack_name.empty() && o.eps_sweep.empty()), "eval",
           "--attack and --eps-sweep need --adv");
  if (!o.attack_name.empty() && attack) (void)attack_sequence(o.attack_name, attack->norm);
  if (!o.eps_sweep.empty()) {
    RP_CHECK(!o.attack_name.empty(), "eval", "--eps-sweep needs --attack");
    (void)parse_eps_list(o.eps_sweep);
  }
  CheckpointSession s = open_session(o.session, "eval");
  Context& ctx = *s.ctx;
  s.net->prepare(ctx, o.batch_size);
  BatchLoader loader(to_device(s.split, ctx.device()),
                     LoaderOptions{o.batch_size, false, false, 4, true}, s.seed);
  const std::string& name = o.session.checkpoint;
  nlohmann::json j = {{"checkpoint", name},
                      {"arch", s.checkpoint->info().spec.arch},
                      {"dataset", s.split.name},
                      {"split", o.session.split}};
  // Wall time of the evaluation alone (data on the device, network prepared): it ends with the
  // one read of the results, so queued GPU work is included.
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (attack && !o.attack_name.empty()) {
    run_ensemble(o, *attack, s, loader, j);
  } else if (!attack) {
    const EvalResult r = evaluate(ctx, *s.net, loader);
    const double t = seconds();
    std::printf("%s on %s %s (%lld images): clean accuracy %.2f%%, loss %.4f\n", name.c_str(),
                s.split.name.c_str(), o.session.split.c_str(), static_cast<long long>(r.examples),
                100 * r.accuracy, r.loss);
    j.update({{"examples", r.examples},
              {"clean_accuracy", r.accuracy},
              {"clean_loss", r.loss},
              {"seconds", t},
              {"images_per_s", static_cast<double>(r.examples) / t}});
  } else {
    PgdAttack pgd(*s.net, ctx.device(), o.batch_size);
    const RngStream rng{o.seed, rng_stream(RngPurpose::RandomStart, 0), 0};
    const RobustResult r = evaluate_robust(ctx, *s.net, pgd, loader, *attack, rng);
    const double t = seconds();
    std::printf(
        "%s on %s %s (%lld images): clean accuracy %.2f%% (loss %.4f), robust accuracy "
        "%.2f%% (loss %.4f) under L%s eps %s PGD-%lld, step %.6g, %lld restart(s)\n",
        name.c_str(), s.split.name.c_str(), o.session.split.c_str(),
        static_cast<long long>(r.examples), 100 * r.clean_accuracy, r.clean_loss,
        100 * r.robust_accuracy, r.robust_loss, o.attack.constraint.c_str(), o.attack.eps.c_str(),
        static_cast<long long>(attack->steps), attack->step,
        static_cast<long long>(attack->restarts));
    j.update({{"examples", r.examples},
              {"clean_accuracy", r.clean_accuracy},
              {"clean_loss", r.clean_loss},
              {"robust_accuracy", r.robust_accuracy},
              {"robust_loss", r.robust_loss},
              {"seconds", t},
              {"images_per_s", static_cast<double>(r.examples) / t},
              // Every restart's iterations, each a forward and an input-gradient backward.
              {"image_iterations_per_s",
               static_cast<double>(r.examples * attack->steps * attack->restarts) / t},
              {"attack",
               {{"constraint", o.attack.constraint},
                {"eps", o.attack.eps},
                {"eps_value", attack->eps},
                {"steps", attack->steps},
                {"step", attack->step},
                {"restarts", attack->restarts},
                {"random_start", attack->random_start},
                {"use_best", attack->use_best},
                {"seed", o.seed}}}});
  }
  const std::string out = o.json.empty() ? name + ".eval.json" : o.json;
  write_file_atomic(out, j.dump(2) + "\n");
  std::printf("results in %s\n", out.c_str());
  if (j.contains("eps_sweep")) write_eps_sweep(o, j, out);
}

}  // namespace

void add_eval_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "eval", "Evaluate a checkpoint: clean loss and accuracy, and with --adv robust accuracy");
  auto o = std::make_shared<EvalOptions>();
  o->session.add_to(cmd);
  cmd->add_option("--batch-size", o->batch_size, "evaluation batch size")->capture_default_str();
  cmd->add_option("--json", o->json, "where to write the results (default: CHECKPOINT.eval.json)");
  cmd->add_option("--dpi", o->dpi, "with --eps-sweep: the plot PNG's resolution")
      ->capture_default_str();
  cmd->add_flag("--adv", o->adv, "Also attack every image (untargeted cross-entropy PGD)");
  o->attack.add_to(cmd);
  cmd->add_option("--seed", o->seed, "seed of the random starts")->capture_default_str();
  cmd->add_option(
      "--attack", o->attack_name,
      "with --adv: pgd, apgd-ce, apgd-t, fab-t, square or autoattack (AutoAttack's sequence), each "
      "attack only on the images the earlier ones left correct (default: the PGD "
      "evaluation)");
  cmd->add_option("--apgd-iterations", o->apgd_iterations, "APGD iterations per run")
      ->capture_default_str();
  cmd->add_option("--targets", o->targets, "APGD-T's and FAB-T's target classes")
      ->capture_default_str();
  cmd->add_option("--fab-iterations", o->fab_iterations, "FAB-T iterations per target class")
      ->capture_default_str();
  cmd->add_option("--square-queries", o->square_queries, "Square's queries (forward passes)")
      ->capture_default_str();
  cmd->add_option("--eps-sweep", o->eps_sweep,
                  "with --attack: also a robust-accuracy table at these radii, e.g. "
                  "0,1/255,2/255,4/255,8/255");
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace rp::cli
