// robustprior: the command-line entry point. Subcommands register themselves from their own
// files; errors from the engine end the run with one clear line and exit code 1.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "engine/core/build_info.h"
#include "engine/core/error.h"
#include "tools/robustprior/commands.h"
#include "tools/robustprior/run_guard.h"

int main(int argc, char** argv) {
  CLI::App app{
      "robustprior: trains and attacks ResNets without a deep-learning framework, and "
      "reproduces \"Adversarial Robustness as a Prior for Learned Representations\"."};
  app.set_version_flag("--version", std::string("robustprior ") + rp::build_info::kVersion);
  // At most one subcommand: an unknown word is then reported by name rather than as a missing
  // subcommand; no subcommand at all prints the help.
  app.require_subcommand(0, 1);
  rp::cli::add_info_command(app);
  rp::cli::add_train_command(app);
  rp::cli::add_eval_command(app);
  rp::cli::add_attack_command(app);
  rp::cli::add_invert_command(app);
  rp::cli::add_interpolate_command(app);
  rp::cli::add_visualize_command(app);
  rp::cli::add_manipulate_command(app);
  rp::cli::add_demo_command(app);
  rp::cli::add_bench_command(app);
  rp::cli::add_convert_command(app);
  rp::cli::add_inspect_command(app);
  rp::cli::add_plot_command(app);
  try {
    app.parse(argc, argv);
    if (app.get_subcommands().empty()) {
      std::cerr << app.help() << "\nrobustprior: error: name a command\n";
      return 1;
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const rp::cli::StoppedBySignal& e) {
    return 128 + e.signal;  // as a shell reports a process ended by that signal
  } catch (const rp::Error& e) {
    std::cerr << "robustprior: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "robustprior: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
