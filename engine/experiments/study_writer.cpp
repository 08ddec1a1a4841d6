#include "engine/experiments/study_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/core/rng_streams.h"
#include "engine/data/image_io.h"
#include "engine/figures/figure_files.h"

namespace rp {

nlohmann::json attack_json(const AttackParams& p) {
  return {{"constraint", p.norm == ThreatModel::L2 ? "2" : "inf"},
          {"eps", p.eps},
          {"step", p.step},
          {"iterations", p.steps},
          {"random_start", p.random_start},
          {"restarts", p.restarts},
          {"use_best", p.use_best}};
}

nlohmann::json statistics_json(const std::vector<double>& v) {
  if (v.empty()) return {{"mean", nullptr}, {"values", v}};
  return {{"mean", mean(v)},
          {"min", *std::min_element(v.begin(), v.end())},
          {"max", *std::max_element(v.begin(), v.end())},
          {"values", v}};
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

nlohmann::json timing_json(double seconds, const AttackParams& p, std::int64_t batch) {
  const double iterations = static_cast<double>(p.steps * p.restarts);
  return {{"seconds", seconds},
          {"batch", batch},
          {"iterations", iterations},
          {"iterations_per_s", seconds > 0 ? iterations / seconds : 0.0}};
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

RngStream study_rng(const StudySetup& s, StudyStream which, std::uint64_t model) {
  return RngStream{
      s.seed, rng_stream(RngPurpose::Experiment, static_cast<std::uint64_t>(which) + model), 0};
}

std::vector<std::int32_t> draw_coordinates(std::int64_t count, std::int64_t size, RngStream rng) {
  std::vector<std::int32_t> all(static_cast<std::size_t>(size));
  std::iota(all.begin(), all.end(), 0);
  if (count >= size) return all;
  // A partial Fisher-Yates shuffle on the counter-based stream: reproducible from the seed.
  for (std::int64_t i = 0; i < count; ++i) {
    const auto span = static_cast<double>(size - i);
    auto j = i + static_cast<std::int64_t>(std::floor(
                     static_cast<double>(rng_uniform(rng, static_cast<std::uint64_t>(i))) * span));
    j = std::min(j, size - 1);
    std::swap(all[static_cast<std::size_t>(i)], all[static_cast<std::size_t>(j)]);
  }
  all.resize(static_cast<std::size_t>(count));
  return all;
}

StudyWriter::StudyWriter(const StudySetup& s, std::string name)
    : s_(s), name_(std::move(name)), start_(std::chrono::steady_clock::now()) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(s.out_dir) / name_, ec);
  RP_CHECK(!ec, name_, "cannot create " << s.out_dir << "/" << name_ << ": " << ec.message());
}

Figure StudyWriter::figure(const std::string& title) const {
  Figure f;
  f.title = title;
  f.channels = s_.data->channels;
  f.height = s_.data->height;
  f.width = s_.data->width;
  f.scale = static_cast<double>(s_.scale);
  return f;
}

std::vector<std::string> StudyWriter::save_images(const HostImages& images,
                                                  const std::string& prefix) {
  std::vector<std::string> paths;
  for (std::int64_t i = 0; i < images.n; ++i) {
    Image img;
    img.width = images.width;
    img.height = images.height;
    img.channels = images.channels;
    img.pixels.resize(static_cast<std::size_t>(images.size()));
    const std::int64_t plane = images.height * images.width;
    for (std::int64_t c = 0; c < images.channels; ++c) {
      for (std::int64_t p = 0; p < plane; ++p) {
        const float v = images.pixels[static_cast<std::size_t>(i * images.size() + c * plane + p)];
        img.pixels[static_cast<std::size_t>(p * images.channels + c)] = static_cast<std::uint8_t>(
            std::lround(255.0 * std::clamp(static_cast<double>(v), 0.0, 1.0)));
      }
    }
    char file[96];
    std::snprintf(file, sizeof file, "%s_%03lld.png", prefix.c_str(), static_cast<long long>(i));
    const std::string rel = name_ + "/" + file;
    save_png(s_.out_dir + "/" + rel, img);
    paths.push_back(rel);
    files_.push_back(rel);
  }
  return paths;
}

std::unique_ptr<Progress> StudyWriter::progress(const ModelUnderStudy& m, const AttackParams& p,
                                                std::int64_t batch) const {
  if (!s_.progress) return nullptr;
  return std::make_unique<Progress>(
      name_ + " [" + m.role + ", batch " + std::to_string(batch) + "]", p.steps * p.restarts, true);
}

StudyReport StudyWriter::finish(const Figure& fig, nlohmann::json manifest, nlohmann::json summary,
                                std::string title, std::string caption) {
  StudyReport r;
  r.name = name_;
  r.title = std::move(title);
  r.caption = std::move(caption);
  r.manifest = s_.out_dir + "/" + name_ + ".json";
  r.summary = std::move(summary);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const FigureFiles figure =
      write_figure_files(layout_figure(fig), s_.out_dir + "/" + name_, s_.dpi);
  r.figure = figure.png;
  r.figure_pdf = figure.pdf;
  r.figure_svg = figure.svg;
  nlohmann::json models = nlohmann::json::array();
  for (const ModelUnderStudy& m : s_.models) {
    models.push_back({{"role", m.role}, {"checkpoint", m.checkpoint}, {"info", m.info}});
  }
  manifest["experiment"] = name_;
  manifest["title"] = r.title;
  manifest["caption"] = r.caption;
  manifest["models"] = models;
  manifest["data"] = {{"dataset", s_.data->name},
                      {"source", s_.data->source},
                      {"split", s_.split},
                      {"images", s_.data->size()},
                      {"classes", s_.class_names}};
  manifest["seed"] = s_.seed;
  manifest["summary"] = r.summary;
  manifest["seconds"] = r.seconds;
  manifest["files"] = {{"figure", name_ + ".png"},
                       {"figure_pdf", name_ + ".pdf"},
                       {"figure_svg", name_ + ".svg"},
                       {"figure_size", {figure.png_width, figure.png_height}},
                       {"images", files_}};
  write_file_atomic(r.manifest, manifest.dump(2) + "\n");
  return r;
}

}  // namespace rp
