// Registration of the CLI's subcommands, one per file (cmd_<name>.cpp).
#pragma once

namespace CLI {
class App;
}

namespace rp::cli {

void add_info_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_attack_command(CLI::App& app);
void add_invert_command(CLI::App& app);
void add_interpolate_command(CLI::App& app);
void add_visualize_command(CLI::App& app);
void add_manipulate_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_convert_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_plot_command(CLI::App& app);

}  // namespace rp::cli
