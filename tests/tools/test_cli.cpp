// The robustprior binary as a user runs it: exit codes, what it prints, and its errors.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/data/image_io.h"
#include "tests/support/cli_run.h"
#include "tests/support/temp_dir.h"
#include "weights/safetensors.h"

namespace {

using rp::test::CliRun;

CliRun run(const std::string& args) {
  return rp::test::run_cli(ROBUSTPRIOR_CLI, args);
}

// A 1x1 white PNG, written byte for byte.
void write_tiny_png(const std::string& path) {
  const unsigned char png[] = {
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
      0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
      0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08,
      0xd7, 0x63, 0xf8, 0xff, 0xff, 0x3f, 0x00, 0x05, 0xfe, 0x02, 0xfe, 0xdc, 0xcc, 0x59,
      0xe7, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(png), sizeof png);
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// A manifest's figure decodes as a PNG of the size it states, and every raw image as a PNG of
// the data's size.
void expect_outputs_decode(const std::string& dir, const nlohmann::json& manifest,
                           std::int64_t size = 32) {
  const nlohmann::json& files = manifest.at("files");
  const rp::Image fig = rp::load_png(dir + "/" + files.at("figure").get<std::string>());
  EXPECT_EQ(fig.width, files.at("figure_size")[0].get<std::int64_t>());
  EXPECT_EQ(fig.height, files.at("figure_size")[1].get<std::int64_t>());
  ASSERT_FALSE(files.at("images").empty());
  for (const auto& f : files.at("images")) {
    const rp::Image img = rp::load_png(dir + "/" + f.get<std::string>());
    EXPECT_EQ(img.width, size);
    EXPECT_EQ(img.height, size);
  }
}

TEST(Cli, InfoPrintsBuildThreadsAndDevices) {
  const CliRun r = run("info");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* part : {"robustprior ", "build\n", "cuda backend", "threads", "devices"}) {
    EXPECT_NE(r.output.find(part), std::string::npos) << "missing '" << part << "' in\n"
                                                      << r.output;
  }
}

TEST(Cli, InfoJsonIsCompleteJson) {
  const CliRun r = run("info --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  EXPECT_FALSE(j.at("version").get<std::string>().empty());
  EXPECT_GE(j.at("cpu").at("threads").get<int>(), 1);
  const auto& cuda = j.at("cuda");
  // Either devices, or the reason there are none.
  EXPECT_TRUE(!cuda.at("devices").empty() || !cuda.at("why_none").get<std::string>().empty());
  EXPECT_TRUE(j.at("build").contains("cuda_architectures"));
}

TEST(Cli, VersionAndHelp) {
  const CliRun v = run("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.output.rfind("robustprior ", 0), 0u) << v.output;
  const CliRun h = run("--help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.output.find("info"), std::string::npos) << h.output;
}

TEST(Cli, UnknownSubcommandFailsWithAMessage) {
  const CliRun r = run("no-such-command");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("no-such-command"), std::string::npos) << r.output;
}

constexpr const char* kTiny =
    "--width 0.0625 --synthetic-train 300 --synthetic-test 100 --batch-size 50 --threads 2 --quiet";

TEST(CliTrain, HelpListsEverySetting) {
  const CliRun r = run("train --help");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* key :
       {"--arch",       "--width",   "--dataset",  "--data",         "--epochs",
        "--batch-size", "--lr",      "--momentum", "--weight-decay", "--nesterov",
        "--schedule",   "--lr-step", "--lr-gamma", "--augment",      "--seed",
        "--device",     "--out",     "--config",   "--resume",       "--synthetic-seed"}) {
    EXPECT_NE(r.output.find(key), std::string::npos) << key;
  }
}

// A config file sets values, flags override it, config.json records the result; eval then
// reproduces the final test accuracy from the checkpoint.
TEST(CliTrain, ConfigFlagsCheckpointsAndEval) {
  rp::test::TempDir dir;
  std::ofstream(dir.file("run.json")) << R"({"epochs": 5, "lr": 0.05, "schedule": "onecycle"})";
  const std::string out = dir.file("run");
  const CliRun r = run(std::string("train ") + kTiny + " --config " + dir.file("run.json") +
                       " --epochs 2 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream cfg_file(out + "/config.json");
  const nlohmann::json cfg = nlohmann::json::parse(cfg_file);
  EXPECT_EQ(cfg.at("epochs"), 2);  // the flag wins
  EXPECT_EQ(cfg.at("lr"), 0.05);   // from the file
  EXPECT_EQ(cfg.at("schedule"), "onecycle");
  EXPECT_EQ(cfg.at("momentum"), 0.9);  // the default
  std::ifstream metrics(out + "/metrics.jsonl");
  std::string line, last;
  int lines = 0;
  while (std::getline(metrics, line)) {
    last = line;
    ++lines;
  }
  EXPECT_EQ(lines, 2);
  const double test_acc = nlohmann::json::parse(last).at("test_acc").get<double>();
  EXPECT_TRUE(std::filesystem::exists(out + "/best.safetensors"));
  const CliRun e = run("eval --profile --checkpoint " + out + "/latest.safetensors --json " +
                       dir.file("e.json"));
  ASSERT_EQ(e.exit_code, 0) << e.output;
  const nlohmann::json ej = read_json(dir.file("e.json"));
  EXPECT_NEAR(ej.at("clean_accuracy").get<double>(), test_acc, 1e-12);
  EXPECT_GT(ej.at("images_per_s").get<double>(), 0.0);
  // --profile: the table of phases, layers and ops after the results.
  for (const char* text : {"profile (host clock", "layer4.1", "conv2d_forward", "total (wall)"}) {
    EXPECT_NE(e.output.find(text), std::string::npos) << text << " in\n" << e.output;
  }

  // The run's directory is not overwritten by accident; --resume continues it.
  const CliRun again = run(std::string("train ") + kTiny + " --out " + out);
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.output.find("already holds a run"), std::string::npos) << again.output;
  const CliRun resumed = run("train --resume --epochs 3 --quiet --out " + out);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming after epoch 2 of 3"), std::string::npos)
      << resumed.output;
}

// Stopped after 2 of 3 epochs and resumed from the CLI, a run ends bit-identical to one that
// ran straight through (step schedule: the total epoch count does not shape it).
TEST(CliTrain, ResumeThroughTheCliIsBitExact) {
  rp::test::TempDir dir;
  const std::string common = std::string("train ") + kTiny + " --schedule step --lr-step 2";
  ASSERT_EQ(run(common + " --epochs 3 --out " + dir.file("straight")).exit_code, 0);
  ASSERT_EQ(run(common + " --epochs 2 --out " + dir.file("resumed")).exit_code, 0);
  const CliRun r = run("train --resume --epochs 3 --quiet --out " + dir.file("resumed"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("note: resuming with epochs = 3 (the run used 2)"), std::string::npos)
      << r.output;
  const auto a = rp::SafetensorsFile::read(dir.file("straight/latest.safetensors"));
  const auto b = rp::SafetensorsFile::read(dir.file("resumed/latest.safetensors"));
  ASSERT_EQ(a.tensors().size(), b.tensors().size());
  for (const auto& [name, t] : a.tensors()) {
    const auto& u = b.tensor(name);
    ASSERT_EQ(t.end - t.begin, u.end - u.begin) << name;
    EXPECT_EQ(std::memcmp(a.data(name), b.data(name), t.end - t.begin), 0) << name;
  }
  std::ifstream log(dir.file("resumed/metrics.jsonl"));
  int lines = 0;
  for (std::string line; std::getline(log, line);) ++lines;
  EXPECT_EQ(lines, 3);
}

TEST(CliTrain, BadInputFailsBeforeAnyWork) {
  rp::test::TempDir dir;
  const std::pair<std::string, std::string> cases[] = {
      {"train --epochs 0 --out " + dir.file("a"), "'epochs' must be in [1, 100000], found 0"},
      {"train --dataset cifar10 --data /no/such/dir --out " + dir.file("b"), "/no/such/dir"},
      {"train --dataset mnist --out " + dir.file("c"),
       "'dataset' must be cifar10, synthetic, folder, imagenet or restricted_imagenet"},
      {"train --arch resnet19 --quiet --synthetic-train 10 --synthetic-test 10 --out " +
           dir.file("d"),
       "unknown architecture 'resnet19'"},
      {"train --resume --out " + dir.file("e"), "no checkpoint at"},
      {"train --config " + dir.file("missing.json"), "missing.json"},
      {"train --lr abc", "abc"},
      {"eval --checkpoint /no/such.safetensors", "/no/such.safetensors"},
  };
  for (const auto& [args, expected] : cases) {
    const CliRun r = run(args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.output.find(expected), std::string::npos) << args << " printed:\n" << r.output;
  }
  // Nothing was written: the failures came before any output.
  for (const char* out : {"a", "b", "c", "d", "e"}) {
    EXPECT_FALSE(std::filesystem::exists(dir.file(out))) << out << " was created";
  }
  const CliRun seed = run("train --seed -1 --out " + dir.file("f"));
  EXPECT_NE(seed.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir.file("f")));
}

// A checkpoint evaluated on data with another number of classes is refused by name.
TEST(CliEval, RefusesADatasetWithOtherClasses) {
  rp::test::TempDir dir;
  const std::string out = dir.file("run");
  ASSERT_EQ(run(std::string("train ") + kTiny + " --epochs 1 --out " + out).exit_code, 0);
  for (const char* split : {"train", "test"}) {
    for (const char* cls : {"cats", "dogs"}) {
      std::filesystem::create_directories(dir.file(std::string("folder/") + split + "/" + cls));
      write_tiny_png(dir.file(std::string("folder/") + split + "/" + cls + "/1.png"));
    }
  }
  const CliRun r = run("eval --checkpoint " + out + "/latest.safetensors --dataset folder --data " +
                       dir.file("folder"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("the model has 10 classes but dataset folder"), std::string::npos)
      << r.output;
}

// eval --adv and attack on a freshly trained checkpoint: numbers, a figure that decodes as a
// PNG of the layout's size, JSON; and bad attack settings refused before any work.
TEST(CliAttack, EvalAdvAndAttackFigure) {
  rp::test::TempDir dir;
  const std::string out = dir.file("run");
  ASSERT_EQ(run(std::string("train ") + kTiny + " --epochs 1 --out " + out).exit_code, 0);
  const std::string ck = out + "/latest.safetensors";
  const CliRun e =
      run("eval --checkpoint " + ck + " --adv --eps 8/255 --attack-steps 3 --subset 40 --json " +
          dir.file("e.json"));
  ASSERT_EQ(e.exit_code, 0) << e.output;
  std::ifstream ej(dir.file("e.json"));
  const nlohmann::json j = nlohmann::json::parse(ej);
  EXPECT_EQ(j.at("examples"), 40);
  EXPECT_LE(j.at("robust_accuracy").get<double>(), j.at("clean_accuracy").get<double>());
  EXPECT_NEAR(j.at("attack").at("step").get<double>(), 2.5 * 8 / 255 / 3, 1e-12);  // the default

  const CliRun a = run("attack --checkpoint " + ck + " --images 0,3,5 --attack-steps 3 --out " +
                       dir.file("fig.png"));
  ASSERT_EQ(a.exit_code, 0) << a.output;
  const rp::Image png = rp::load_png(dir.file("fig.png"));
  EXPECT_GT(png.width, 3 * 96);   // three columns of 32x32 images at scale 3
  EXPECT_GT(png.height, 3 * 96);  // clean, perturbation, adversarial
  std::ifstream aj(dir.file("fig.json"));
  const nlohmann::json numbers = nlohmann::json::parse(aj);
  ASSERT_EQ(numbers.at("images").size(), 3u);
  EXPECT_EQ(numbers.at("images")[1].at("index"), 3);
  EXPECT_LE(numbers.at("images")[0].at("perturbation_linf").get<double>(), 8.0 / 255 + 1e-6);

  const std::pair<std::string, std::string> bad[] = {
      {"--eps -1", "--eps must be >= 0"},
      {"--eps nan", "--eps"},
      {"--eps 8/0", "division by zero"},
      {"--eps abc", "'abc'"},
      {"--attack-lr -0.1", "--attack-lr must be >= 0"},
      {"--attack-steps 0", "--attack-steps must be >= 1"},
      {"--restarts 0", "--restarts must be >= 1"},
      {"--constraint 3", "unknown constraint '3'"},
      {"--targeted", "a targeted attack needs a target"},
      {"--target 10", "class 10 is outside the model's 10 classes"},
      {"--target giraffe", "'giraffe' is neither a class name nor an index"},
      {"--images 0,99999", "image 99999 is outside"},
  };
  for (const auto& [args, expected] : bad) {
    const CliRun r =
        run("attack --checkpoint " + ck + " " + args + " --out " + dir.file("bad.png"));
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.output.find(expected), std::string::npos) << args << " printed:\n" << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir.file("bad.png"))) << args;
  }
  const CliRun adv =
      run(std::string("train ") + kTiny + " --adv pgd --eps -8/255 --out " + dir.file("x"));
  EXPECT_NE(adv.exit_code, 0);
  EXPECT_NE(adv.output.find("'eps' must be >= 0"), std::string::npos) << adv.output;
  const CliRun fgsm =
      run(std::string("train ") + kTiny + " --adv fgsm-rs --constraint 2 --out " + dir.file("y"));
  EXPECT_NE(fgsm.output.find("fgsm-rs is an Linf attack"), std::string::npos) << fgsm.output;
}

// Each experiment command on a freshly trained tiny checkpoint (as both models): a complete
// manifest, a figure and raw images that decode, and metrics for both models.
TEST(CliExperiments, EachCommandWritesFigureImagesAndManifest) {
  rp::test::TempDir dir;
  const std::string out = dir.file("run");
  ASSERT_EQ(run(std::string("train ") + kTiny + " --epochs 1 --out " + out).exit_code, 0);
  const std::string ck = out + "/latest.safetensors";
  const std::string models = " --robust " + ck + " --standard " + ck + " --quiet";
  struct Case {
    std::string args, manifest;
    std::vector<std::string> metrics;
  };
  const Case cases[] = {
      {"invert --count 3 --iterations 4",
       "invert",
       {"representation_distance", "pixel_distance", "classified_as_target"}},
      {"interpolate --count 1 --frames 4 --iterations 4",
       "interpolate",
       {"path_step", "blend_step", "representation_distance"}},
      {"visualize --count 1 --noise-seeds 1 --random-coordinates 2 --iterations 4 "
       "--max-iterations 4 --top 2",
       "visualize",
       {"value_before", "value_after", "pixel_moved"}},
      {"visualize --count 1 --noise-seeds 0 --coordinates 1 --iterations 2 --max-coordinates 3 "
       "--max-iterations 4 --top 2",
       "maximizing",
       {"value_before", "value_after", "pixel_moved", "ranked_images"}},
      {"manipulate --count 3 --feature-class ring --feature-count 5 --iterations 4",
       "manipulate",
       {"coordinate", "value_before", "value_after", "pixel_moved"}},
  };
  for (const Case& c : cases) {
    const std::string where = dir.file(c.manifest);
    const CliRun r = run(c.args + models + " --out " + where);
    ASSERT_EQ(r.exit_code, 0) << c.args << "\n" << r.output;
    const nlohmann::json m = read_json(where + "/" + c.manifest + ".json");
    for (const char* key : {"experiment", "title", "caption", "models", "data", "seed", "summary",
                            "seconds", "files", "parameters", "metrics"}) {
      EXPECT_TRUE(m.contains(key)) << c.manifest << " lacks " << key;
    }
    EXPECT_EQ(m.at("experiment"), c.manifest);
    ASSERT_EQ(m.at("models").size(), 2u);
    EXPECT_EQ(m.at("models")[0].at("checkpoint"), ck);
    EXPECT_EQ(m.at("models")[0].at("info").at("arch"), "resnet18");
    EXPECT_EQ(m.at("parameters").at("attack").at("constraint"), "2");
    for (const char* role : {"robust", "standard"}) {
      for (const std::string& metric : c.metrics) {
        EXPECT_TRUE(m.at("metrics").at(role).contains(metric))
            << c.manifest << ": " << role << " lacks " << metric;
      }
      EXPECT_GT(m.at("metrics").at(role).at("timing").at("iterations_per_s").get<double>(), 0);
    }
    expect_outputs_decode(where, m);
  }
  // The parameters given are the parameters recorded.
  const nlohmann::json inv = read_json(dir.file("invert") + "/invert.json");
  EXPECT_EQ(inv.at("parameters").at("attack").at("iterations"), 4);
  EXPECT_EQ(inv.at("parameters").at("attack").at("eps"), 1000);
  EXPECT_EQ(inv.at("parameters").at("attack").at("step"), 1);
  EXPECT_EQ(inv.at("images").at("targets").size(), 3u);
  const nlohmann::json man = read_json(dir.file("manipulate") + "/manipulate.json");
  EXPECT_EQ(man.at("parameters").at("tau"), 1);
  EXPECT_EQ(man.at("parameters").at("attack").at("use_best"), true);
  EXPECT_EQ(man.at("feature_sources").size(), 5u);
}

// An ImageNet-layout folder of PNGs of mixed sizes: trained on at 224x224 (RandomResizedCrop
// from the files), evaluated (Resize + CenterCrop), attacked and inverted with its figures.
TEST(CliImagenet, TrainEvalAttackAndInvertAt224) {
  rp::test::TempDir dir;
  const std::string data = dir.file("imagenet");
  int k = 0;
  for (const char* split : {"train", "val"}) {
    for (const char* wnid : {"n01440764", "n01443537", "n01484850"}) {
      const std::string cls = data + "/" + split + "/" + wnid;
      std::filesystem::create_directories(cls);
      for (int i = 0; i < (split == std::string("train") ? 2 : 1); ++i, ++k) {
        rp::Image img;
        img.width = 50 + 21 * (k % 3);
        img.height = 40 + 13 * (k % 4);
        img.channels = 3;
        for (std::int64_t p = 0; p < img.width * img.height * 3; ++p) {
          img.pixels.push_back(static_cast<std::uint8_t>((p * 7 + k * 40) % 256));
        }
        rp::save_png(cls + "/" + std::to_string(i) + ".png", img);
      }
    }
  }
  const std::string out = dir.file("run");
  const CliRun train = run("train --dataset imagenet --data " + data +
                           " --width 0.0625 --epochs 1 --batch-size 6 --threads 2 "
                           "--robust-eval-subset 0 --quiet --out " +
                           out);
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_NE(train.output.find("imagenet: 6 training and 3 test images, 3 classes, 224x224"),
            std::string::npos)
      << train.output;
  const std::string ck = out + "/latest.safetensors";
  const CliRun eval = run("eval --threads 2 --checkpoint " + ck);
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(eval.output.find("on imagenet test (3 images)"), std::string::npos) << eval.output;
  const CliRun attack = run("attack --threads 2 --checkpoint " + ck +
                            " --count 2 --attack-steps 1 --scale 1 --out " + dir.file("a.png"));
  ASSERT_EQ(attack.exit_code, 0) << attack.output;
  EXPECT_GT(rp::load_png(dir.file("a.png")).width, 2 * 224);
  const std::string where = dir.file("invert");
  const CliRun inv = run("invert --threads 2 --robust " + ck +
                         " --count 2 --iterations 2 --scale 1 --quiet --out " + where);
  ASSERT_EQ(inv.exit_code, 0) << inv.output;
  const nlohmann::json m = read_json(where + "/invert.json");
  expect_outputs_decode(where, m, 224);
  // RestrictedImageNet needs ImageNet's 1000 classes.
  const CliRun restricted =
      run("eval --threads 2 --checkpoint " + ck + " --dataset restricted_imagenet");
  EXPECT_NE(restricted.exit_code, 0);
  EXPECT_NE(restricted.output.find("has 3 class folders"), std::string::npos) << restricted.output;
}

// Bad arguments: a clear error, a non-zero exit, and nothing written.
TEST(CliExperiments, BadArgumentsFailBeforeAnyWork) {
  rp::test::TempDir dir;
  const std::string out = dir.file("run");
  ASSERT_EQ(run(std::string("train ") + kTiny + " --epochs 1 --out " + out).exit_code, 0);
  const std::string ck = out + "/latest.safetensors";
  // A folder of the synthetic classes' names (a different dataset; a folder's classes are in
  // alphabetical order) and one of two classes.
  for (const char* split : {"train", "test"}) {
    for (const char* cls : {"disk", "ring", "square", "triangle", "cross", "hstripes", "vstripes",
                            "diagonal", "checker", "dots"}) {
      std::filesystem::create_directories(dir.file(std::string("same/") + split + "/" + cls));
      write_tiny_png(dir.file(std::string("same/") + split + "/" + cls + "/1.png"));
    }
    for (const char* cls : {"cats", "dogs"}) {
      std::filesystem::create_directories(dir.file(std::string("two/") + split + "/" + cls));
      write_tiny_png(dir.file(std::string("two/") + split + "/" + cls + "/1.png"));
    }
  }
  const std::string robust = " --robust " + ck;
  std::string many_pairs = "0:1";  // 65 pairs of 64 frames: 4,160 images
  for (int i = 0; i < 64; ++i) many_pairs += ",0:1";
  const std::pair<std::string, std::string> bad[] = {
      {"visualize" + robust + " --coordinates 3,999", "coordinate 999 is outside the robust"},
      {"visualize" + robust + " --max-coordinates 64", "coordinate 64 is outside"},
      {"manipulate" + robust + " --coordinate 32", "coordinate 32 is outside"},
      {"invert" + robust + " --iterations 0", "--iterations must be >= 1"},
      {"interpolate" + robust + " --iterations 0", "--iterations must be >= 1"},
      {"visualize" + robust + " --max-iterations 0", "--max-iterations must be >= 1"},
      {"manipulate" + robust + " --step 0", "--step must be > 0"},
      {"invert" + robust + " --eps -3", "--eps must be >= 0"},
      {"invert --robust " + dir.file("missing.safetensors"), "missing.safetensors"},
      {"invert", "give a model"},
      {"invert" + robust + " --images 0,5000", "image 5000 is outside the test split"},
      {"interpolate" + robust + " --pairs 0:1,2", "expected pairs LEFT:RIGHT"},
      {"manipulate" + robust + " --feature-class giraffe", "'giraffe' is neither a class"},
      {"manipulate" + robust + " --coordinate 1 --feature-class ring",
       "choose the feature one way"},
      {"invert" + robust + " --dataset folder --data " + dir.file("two"),
       "but the data has 2 [\"cats\",\"dogs\"]"},
      {"invert" + robust + " --dataset folder --data " + dir.file("same"),
       "but the data has 10 [\"checker\""},  // the same names, another order
      {"demo --checkpoints " + ck, "--checkpoints: expected ROBUST.safetensors,STANDARD"},
      {"demo --checkpoints " + ck + "," + dir.file("nope.safetensors"), "no checkpoint file at"},
      {"demo --data cifar10:" + dir.file("nowhere"), "--data: no directory at"},
      {"demo --data imagenet", "expected synthetic, cifar10:DIR or folder:DIR"},
      {"demo --size huge", "--size"},
      {"demo --scale 0", "--scale must be in [1, 16]"},
      {"invert" + robust + " --scale 0", "figure scale must be in [1, 16]"},
      {"interpolate" + robust + " --frames 1", "--frames must be in [2, 64]"},
      {"visualize" + robust + " --top 0", "--top must be in [1, 100]"},
      {"invert" + robust + " --images 1,2 --sources 3", "1 source images for 2 targets"},
      {"manipulate" + robust + " --tau abc", "'abc'"},
      {"interpolate" + robust + " --frames 64 --pairs " + many_pairs, "the most is 4096"},
  };
  for (const auto& [args, expected] : bad) {
    const std::string where = dir.file("out");
    const CliRun r = run(args + " --out " + where);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.output.find(expected), std::string::npos) << args << " printed:\n" << r.output;
    EXPECT_FALSE(std::filesystem::exists(where)) << args << " wrote " << where;
  }
}

// robustprior bench: the result line, the JSON bench_compare.sh reads, the profile, and bad
// options refused before any work.
TEST(CliBench, TimesAWorkloadAndWritesItsJson) {
  rp::test::TempDir dir;
  const CliRun r =
      run("bench --workload pgd-eval --attack-steps 2 --width 0.0625 --batch 4 "
          "--warmup 1 --iters 2 --repeats 3 --threads 2 --profile --json " +
          dir.file("b.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("pgd-eval resnet18 width 0.0625 batch 4 on cpu (2 threads)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("attack update"), std::string::npos) << r.output;
  const nlohmann::json j = read_json(dir.file("b.json"));
  EXPECT_EQ(j.at("engine"), "robustprior");
  EXPECT_EQ(j.at("workload"), "pgd-eval");
  EXPECT_EQ(j.at("attack_steps"), 2);
  EXPECT_EQ(j.at("threads"), 2);
  EXPECT_EQ(j.at("repeat_seconds").size(), 3u);
  const double per_iter = j.at("seconds_per_iter").get<double>();
  EXPECT_NEAR(j.at("images_per_s").get<double>() * per_iter, 4.0, 1e-9);
  EXPECT_NEAR(j.at("image_iterations_per_s").get<double>() * per_iter, 8.0, 1e-9);
  EXPECT_FALSE(j.at("profile").at("rows").empty());
  for (const auto& [args, text] : std::vector<std::pair<std::string, std::string>>{
           {"--workload train", "unknown workload 'train'"},
           {"--workload train-step --attack-steps 3", "--attack-steps applies to"},
           {"--iters 0", "iters must be >= 1"},
           {"--arch resnet99", "unknown architecture"},
           {"--threads -1", "--threads must be in [0, 4096]"}}) {
    const CliRun bad = run("bench --width 0.0625 --json " + dir.file("bad.json") + " " + args);
    EXPECT_NE(bad.exit_code, 0) << args;
    EXPECT_NE(bad.output.find(text), std::string::npos) << args << ": " << bad.output;
    EXPECT_FALSE(std::filesystem::exists(dir.file("bad.json"))) << args;
  }
}

// The main job at its smallest size: both models trained, every experiment run for both, the
// index linking every figure.
TEST(CliDemo, TinyDemoWritesEveryFigureAndTheIndex) {
  rp::test::TempDir dir;
  const std::string out = dir.file("demo");
  const CliRun r = run("demo --size tiny --quiet --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("inversions, mean pixel L2 to their targets"), std::string::npos)
      << r.output;
  std::ifstream in(out + "/index.html");
  std::string html;
  for (std::string line; std::getline(in, line);) html += line + "\n";
  for (const char* name : {"invert", "interpolate", "visualize", "maximizing", "manipulate"}) {
    const nlohmann::json m = read_json(out + "/" + name + ".json");
    expect_outputs_decode(out, m);
    EXPECT_NE(html.find(std::string("src=\"") + name + ".png\""), std::string::npos) << name;
    // The vector versions beside each PNG, linked.
    for (const char* ext : {".pdf", ".svg"}) {
      EXPECT_TRUE(std::filesystem::exists(out + "/" + name + ext)) << name << ext;
      EXPECT_NE(html.find(std::string("href=\"") + name + ext + "\""), std::string::npos) << name;
    }
    EXPECT_NE(html.find(std::string("href=\"") + name + ".json\""), std::string::npos) << name;
    ASSERT_EQ(m.at("models").size(), 2u);
    EXPECT_EQ(m.at("models")[0].at("role"), "robust");
    EXPECT_EQ(m.at("models")[1].at("role"), "standard");
  }
  // Both models' training curves and the eps sweep, shown and linked; the sweep's table; the
  // inversion ratio; how to reproduce; nothing fetched from elsewhere.
  for (const char* plot : {"training_curves", "eps_sweep"}) {
    for (const char* ext : {".png", ".pdf", ".svg"}) {
      EXPECT_TRUE(std::filesystem::exists(out + "/" + plot + ext)) << plot << ext;
    }
    EXPECT_NE(html.find(std::string("src=\"") + plot + ".png\""), std::string::npos) << plot;
    EXPECT_NE(html.find(std::string("href=\"") + plot + ".pdf\""), std::string::npos) << plot;
  }
  std::ifstream csv_in(out + "/eps_sweep.csv");
  std::string header;
  std::getline(csv_in, header);
  EXPECT_EQ(header, "model,eps,robust_accuracy");
  int rows = 0;
  for (std::string line; std::getline(csv_in, line);) ++rows;
  EXPECT_EQ(rows, 8);  // 2 models x 4 eps
  EXPECT_NE(html.find("ratio robust/standard"), std::string::npos);
  EXPECT_NE(html.find("How to reproduce"), std::string::npos);
  EXPECT_NE(html.find("robustprior demo --size tiny --seed 0 --out " + out), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);  // offline: no external fonts or scripts
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(out + "/models/robust/latest.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(out + "/models/standard/latest.safetensors"));
  // The robust run is adversarially trained at L2 eps 0.5.
  const nlohmann::json cfg = read_json(out + "/models/robust/config.json");
  EXPECT_EQ(cfg.at("adv"), "pgd");
  EXPECT_EQ(cfg.at("constraint"), "2");
  EXPECT_EQ(cfg.at("eps"), "0.5");
  // --checkpoints skips training and reuses them; --max-iterations caps every experiment.
  const CliRun again = run(
      "demo --size tiny --quiet --max-iterations 5 --out " + dir.file("again") + " --checkpoints " +
      out + "/models/robust/latest.safetensors," + out + "/models/standard/latest.safetensors");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("again/models")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("again/index.html")));
  for (const char* name : {"invert", "interpolate", "visualize", "maximizing", "manipulate"}) {
    std::vector<double> counts;
    std::function<void(const nlohmann::json&)> collect = [&](const nlohmann::json& j) {
      for (auto it = j.begin(); j.is_structured() && it != j.end(); ++it) {
        if (j.is_object() && it.key() == "iterations" && it->is_number()) {
          counts.push_back(it->get<double>());
        }
        collect(*it);
      }
    };
    collect(read_json(dir.file("again/") + name + ".json"));
    ASSERT_FALSE(counts.empty()) << name;
    for (double c : counts) EXPECT_EQ(c, 5.0) << name;
  }
  const CliRun bad = run("demo --size tiny --quiet --max-iterations -3 --out " + dir.file("bad"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--max-iterations must be >= 1, found -3"), std::string::npos)
      << bad.output;
}

// A CIFAR-10 directory in the binary layout with `records` images per file (labels cycling
// through the classes, pixels a fixed pattern): what a PyTorch CIFAR model runs on.
void write_tiny_cifar10(const std::string& dir, int records) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/batches.meta.txt")
      << "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
  std::string bytes;
  for (int r = 0; r < records; ++r) {
    bytes.push_back(static_cast<char>(r % 10));
    for (int i = 0; i < 3 * 32 * 32; ++i)
      bytes.push_back(static_cast<char>((i * 37 + r * 11) % 256));
  }
  for (const char* f : {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                        "data_batch_5", "test_batch"}) {
    std::ofstream(dir + "/" + f + ".bin", std::ios::binary) << bytes;
  }
}

const std::string kPtModels = std::string(RP_PT_MODEL_FIXTURES) + "/";

// convert, then eval of the converted file and of the .pt itself (the same numbers), inspect of
// both formats, as text and JSON.
TEST(CliTorch, ConvertEvalAndInspect) {
  rp::test::TempDir dir;
  write_tiny_cifar10(dir.file("cifar"), 8);
  const std::string pt = kPtModels + "robustness_resnet18_zip.pt";
  const std::string out = dir.file("r18.safetensors");
  const CliRun c = run("convert " + pt + " " + out);
  ASSERT_EQ(c.exit_code, 0) << c.output;
  for (const char* said : {"resnet18", "width 0.015625", "epoch: 7", "the file's normalizer"}) {
    EXPECT_NE(c.output.find(said), std::string::npos) << said << " not in: " << c.output;
  }
  const std::string data = " --dataset cifar10 --data " + dir.file("cifar");
  const CliRun a = run("eval --checkpoint " + out + data + " --json " + dir.file("a.json"));
  ASSERT_EQ(a.exit_code, 0) << a.output;
  const CliRun b = run("eval --checkpoint " + pt + data + " --json " + dir.file("b.json"));
  ASSERT_EQ(b.exit_code, 0) << b.output;
  const nlohmann::json ja = read_json(dir.file("a.json")), jb = read_json(dir.file("b.json"));
  EXPECT_EQ(ja.at("examples"), 8);
  EXPECT_EQ(ja.at("clean_loss"), jb.at("clean_loss"));
  EXPECT_EQ(ja.at("clean_accuracy"), jb.at("clean_accuracy"));

  const CliRun ipt = run("inspect " + pt + " --json");
  ASSERT_EQ(ipt.exit_code, 0) << ipt.output;
  const nlohmann::json j = nlohmann::json::parse(ipt.output);
  EXPECT_EQ(j.at("format"), "zip");
  EXPECT_EQ(j.at("scalars").at("epoch"), 7);
  EXPECT_EQ(j.at("inferred").at("arch"), "resnet18");
  EXPECT_EQ(j.at("inferred").at("state_dict"), "model.module.model.");
  bool found = false;
  for (const auto& t : j.at("tensors")) {
    if (t.at("name") == "model.module.model.conv1.weight") {
      found = true;
      EXPECT_EQ(t.at("dtype"), "F32");
      EXPECT_EQ(t.at("shape"), nlohmann::json({1, 3, 3, 3}));
    }
  }
  EXPECT_TRUE(found);
  const CliRun ist = run("inspect " + out + " --json");
  ASSERT_EQ(ist.exit_code, 0) << ist.output;
  const nlohmann::json k = nlohmann::json::parse(ist.output);
  EXPECT_EQ(k.at("format"), "safetensors");
  EXPECT_EQ(k.at("metadata").at("arch"), "resnet18");
  EXPECT_EQ(k.at("metadata").at("epoch"), 7);
  EXPECT_EQ(k.at("metadata").at("imported_from").at("format"), "zip");
  for (const std::string& f : {pt, out}) {
    const CliRun t = run("inspect " + f);
    ASSERT_EQ(t.exit_code, 0) << t.output;
    EXPECT_NE(t.output.find("conv1.weight  F32 [1,3,3,3]"), std::string::npos) << t.output;
  }
  // A file the import refuses still inspects, saying why no model was inferred.
  const CliRun bad = run("inspect " + kPtModels + "bad_extra_key.pt");
  ASSERT_EQ(bad.exit_code, 0) << bad.output;
  EXPECT_NE(bad.output.find("no robustprior model"), std::string::npos) << bad.output;
}

// --arch, --normalization, --dataset and --image-size reach the converted file; bad .pt files
// and bad options fail with a message and write nothing.
TEST(CliTorch, ConvertOptionsAndRefusals) {
  rp::test::TempDir dir;
  const std::string pt = kPtModels + "fast_preact_resnet18.pt";
  const std::string out = dir.file("p.safetensors");
  const CliRun c = run("convert " + pt + " " + out +
                       " --arch preact_resnet18 --normalization none --dataset mine "
                       "--image-size 40");
  ASSERT_EQ(c.exit_code, 0) << c.output;
  const nlohmann::json k = nlohmann::json::parse(run("inspect " + out + " --json").output);
  EXPECT_EQ(k.at("metadata").at("normalization_std"), nlohmann::json({1.0, 1.0, 1.0}));
  EXPECT_EQ(k.at("metadata").at("dataset"), "mine");
  EXPECT_EQ(k.at("metadata").at("image_shape"), nlohmann::json({3, 40, 40}));

  const std::pair<std::string, std::string> bad[] = {
      {"convert " + kPtModels + "bad_nan_weight.pt", "'layer3.0.conv2.weight' holds a non-finite"},
      {"convert " + kPtModels + "bad_renamed_key.pt", "lacks 'layer2.1.bn2.weight'"},
      {"convert " + kPtModels + "bad_attacker_differs.pt", "differs from"},
      {"convert " + pt, "required"},
      {"convert " + out, "is not a PyTorch checkpoint"},
      {"convert " + pt + " --arch resnet50", "does not fit a resnet50"},
      {"convert " + pt + " --normalization 1,2/3", "--normalization"},
      {"convert " + pt + " --image-size -4", "--image-size must be > 0"},
  };
  for (const auto& [args, message] : bad) {
    const std::string target = dir.file("never.safetensors");
    const CliRun r = run(args + (args == "convert " + pt ? "" : " " + target));
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.output.find(message), std::string::npos) << args << "\n" << r.output;
    EXPECT_FALSE(std::filesystem::exists(target)) << args;
  }
  for (const auto& e : std::filesystem::directory_iterator(dir.file(""))) {
    EXPECT_EQ(e.path().filename().string(), "p.safetensors") << "left behind: " << e.path();
  }
  const CliRun ev =
      run("eval --checkpoint " + kPtModels + "bad_renamed_key.pt --dataset synthetic");
  EXPECT_NE(ev.exit_code, 0);
  EXPECT_NE(ev.output.find("bad_renamed_key.pt"), std::string::npos) << ev.output;
}

// The experiments take .pt files for --robust and --standard.
TEST(CliTorch, ExperimentsTakePtFiles) {
  rp::test::TempDir dir;
  write_tiny_cifar10(dir.file("cifar"), 4);
  const std::string where = dir.file("invert");
  const CliRun r = run("invert --count 2 --iterations 2 --quiet --robust " + kPtModels +
                       "robustness_resnet18_zip.pt --standard " + kPtModels +
                       "robustness_resnet50_legacy.pt --dataset cifar10 --data " +
                       dir.file("cifar") + " --out " + where);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json m = read_json(where + "/invert.json");
  ASSERT_EQ(m.at("models").size(), 2u);
  EXPECT_EQ(m.at("models")[0].at("info").at("arch"), "resnet18");
  EXPECT_EQ(m.at("models")[1].at("info").at("arch"), "resnet50");
}

}  // namespace

namespace {

// --resume continues robustprior runs only: a .pt in the run's place is refused.
TEST(CliTorch, ResumeRefusesAPtFile) {
  rp::test::TempDir dir;
  const std::string out = dir.file("run");
  std::filesystem::create_directories(out);
  std::filesystem::copy_file(kPtModels + "robustness_resnet18_zip.pt", out + "/latest.safetensors");
  const CliRun r = run(std::string("train ") + kTiny + " --epochs 1 --resume --out " + out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("is a PyTorch checkpoint"), std::string::npos) << r.output;
}

}  // namespace

// eval --adv --attack: AutoAttack's sequence with per-attack and per-example results, an eps
// sweep that never rises, and bad attack settings refused before any work.
TEST(CliAttack, EvalAutoAttackAndEpsSweep) {
  rp::test::TempDir dir;
  const std::string out = dir.file("run");
  ASSERT_EQ(run(std::string("train ") + kTiny + " --epochs 1 --out " + out).exit_code, 0);
  const std::string ck = out + "/latest.safetensors";
  const std::string common = "eval --checkpoint " + ck + " --adv --subset 12 --batch-size 6 ";
  const CliRun e =
      run(common +
          "--attack autoattack --eps 4/255 --apgd-iterations 3 --targets 2 --fab-iterations 3 "
          "--square-queries 20 "
          "--eps-sweep 0,16/255 --json " +
          dir.file("aa.json"));
  ASSERT_EQ(e.exit_code, 0) << e.output;
  std::ifstream ej(dir.file("aa.json"));
  const nlohmann::json j = nlohmann::json::parse(ej);
  EXPECT_EQ(j.at("examples"), 12);
  ASSERT_EQ(j.at("attacks").size(), 4u);
  EXPECT_EQ(j.at("attacks")[0].at("name"), "apgd-ce");
  EXPECT_EQ(j.at("attacks")[1].at("name"), "apgd-t");
  EXPECT_EQ(j.at("attacks")[2].at("name"), "fab-t");
  EXPECT_EQ(j.at("attacks")[3].at("name"), "square");
  EXPECT_EQ(j.at("attack").at("fab_iterations"), 3);
  EXPECT_FALSE(j.at("attack").contains("not_run"));
  const double clean = j.at("clean_accuracy"), robust = j.at("robust_accuracy");
  EXPECT_LE(robust, clean);
  EXPECT_EQ(j.at("attacks")[3].at("robust_accuracy").get<double>(), robust);
  ASSERT_EQ(j.at("outcomes").size(), 12u);
  int standing = 0;
  for (const nlohmann::json& o : j.at("outcomes")) {
    if (o.at("clean_correct").get<bool>() && o.at("broken_by").is_null()) ++standing;
    if (!o.at("broken_by").is_null()) {
      EXPECT_LE(o.at("norm").get<double>(), 4.0 / 255 + 1e-6);
    }
  }
  EXPECT_DOUBLE_EQ(robust, standing / 12.0);
  ASSERT_EQ(j.at("eps_sweep").size(), 2u);
  EXPECT_EQ(j.at("eps_sweep")[0].at("robust_accuracy").get<double>(), clean);
  EXPECT_LE(j.at("eps_sweep")[1].at("robust_accuracy").get<double>(), robust);
  // The sweep as a table and a plot beside the JSON.
  std::ifstream csv(dir.file("aa.eps_sweep.csv"));
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(csv, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "eps,robust_accuracy,seconds");
  EXPECT_EQ(lines[2].rfind("16/255,", 0), 0u) << lines[2];
  for (const char* ext : {".pdf", ".svg", ".png"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.file(std::string("aa.eps_sweep") + ext))) << ext;
  }
  EXPECT_GT(rp::load_png(dir.file("aa.eps_sweep.png")).width, 300);

  // Training curves of the run; a folder that is not a run's, or an empty log, refused.
  const CliRun plot = run("plot " + out + " --out " + dir.file("curves") + " --dpi 100");
  ASSERT_EQ(plot.exit_code, 0) << plot.output;
  for (const char* ext : {".pdf", ".svg", ".png"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.file(std::string("curves") + ext))) << ext;
  }
  std::ifstream svg_in(dir.file("curves.svg"));
  std::string svg;
  for (std::string l; std::getline(svg_in, l);) svg += l + "\n";
  EXPECT_NE(svg.find(">Accuracy</text>"), std::string::npos);
  EXPECT_NE(svg.find(">Learning rate</text>"), std::string::npos);
  // Without the typeface, refused with what to install, and nothing written.
  const CliRun no_font =
      rp::test::run_cli(ROBUSTPRIOR_CLI, "plot " + out + " --out " + dir.file("nf"),
                        "ROBUSTPRIOR_FONT_DIR=" + dir.file("no_fonts") + " ");
  EXPECT_EQ(no_font.exit_code, 1);
  EXPECT_NE(no_font.output.find("ROBUSTPRIOR_FONT_DIR is"), std::string::npos) << no_font.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("nf.png")));
  const CliRun not_run = run("plot " + dir.file("nothing_here"));
  EXPECT_EQ(not_run.exit_code, 1);
  EXPECT_NE(not_run.output.find("is not a folder"), std::string::npos) << not_run.output;
  std::filesystem::create_directories(dir.file("empty_run"));
  std::ofstream(dir.file("empty_run/metrics.jsonl")).flush();
  const CliRun empty = run("plot " + dir.file("empty_run"));
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.output.find("is empty: the run has not finished an epoch"), std::string::npos)
      << empty.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("empty_run/training_curves.png")));

  const std::pair<std::string, std::string> bad[] = {
      {"--attack fgsm", "unknown attack 'fgsm'"},
      {"--attack apgd-t --targets 10", "target classes must lie in [1, 9]"},
      {"--attack apgd-ce --apgd-iterations 0", "iterations must be >= 1"},
      {"--attack autoattack --eps-sweep 1/255,-1", "--eps-sweep: eps must be >= 0"},
      {"--eps-sweep 1/255", "--eps-sweep needs --attack"},
      {"--attack square --square-queries 0", "queries must be >= 1"},
      {"--attack fab-t --fab-iterations 0", "iterations must be >= 1"},
      {"--attack fab-t --targets 10", "target classes must lie in [1, 9]"},
  };
  for (const auto& [args, expected] : bad) {
    const CliRun r = run(common + args + " --json " + dir.file("bad.json"));
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.output.find(expected), std::string::npos) << args << " printed:\n" << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir.file("bad.json"))) << args;
  }
}
