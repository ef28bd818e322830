// Shared plumbing of the llcbench subcommands: option parsing with Boost.Program_options,
// --help, and the translation of exceptions into one-line messages and exit codes
// (UsageError -> 2, other errors -> 1; design.md, "CLI contract").
#pragma once

#include <boost/program_options.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace llcb::cli {

namespace po = boost::program_options;

struct Command {
  std::string name;
  std::string summary;
  std::function<int(const std::vector<std::string>& args)> run;
};

// The registry of subcommands, in the order `llcbench --help` lists them.
const std::vector<Command>& commands();

int cmd_truth(const std::vector<std::string>& args);
int cmd_problem(const std::vector<std::string>& args);
int cmd_run(const std::vector<std::string>& args);
int cmd_bench(const std::vector<std::string>& args);
int cmd_calibrate(const std::vector<std::string>& args);
int cmd_sweep(const std::vector<std::string>& args);
int cmd_reduce(const std::vector<std::string>& args);
int cmd_query(const std::vector<std::string>& args);
int cmd_status(const std::vector<std::string>& args);
int cmd_repair(const std::vector<std::string>& args);
int cmd_report(const std::vector<std::string>& args);

// Adds the options every command has (--help, --log-level, whose default is `default_level`).
void add_common_options(po::options_description& desc, const char* default_level = "warn");

// Parses args into a variables map. Returns false when --help was given (help already printed to
// stdout with `usage` as its first line). Throws UsageError for unknown or malformed options.
// Applies --log-level.
bool parse(const std::vector<std::string>& args, const po::options_description& desc,
           const std::string& usage, po::variables_map& vm,
           const po::positional_options_description* positional = nullptr);

// The string value of a required option; throws UsageError "--NAME is required (for example
// --NAME EXAMPLE)" when it is missing.
const std::string& required(const po::variables_map& vm, const std::string& name,
                            const std::string& example);

// Runs read, which reads a store, retrying it a few times (100 ms apart) when it throws an
// llcb::Error: a store is read while a sweep may be writing it (no SWMR), and a read that races
// one of the writer's flushes can fail. The last failure is rethrown.
void read_store_retrying(const std::function<void()>& read);

// Checks, before any work, that `path` (the value of --option) can be written as a file: not a
// directory, in a directory that exists and can be written, and ending in `suffix` where one is
// given. UsageError naming the option otherwise.
void check_output_file(const std::string& option, const std::string& path, const std::string& suffix = "");

// "45 s", "3.5 min", "2.0 h": a duration as progress lines and status print it.
std::string format_duration(double seconds);

// text with every byte that is not printable ASCII or part of well-formed UTF-8 (a control
// character, bytes of a damaged store's names) written as \xNN, so that an error stays one
// readable line.
std::string printable(std::string_view text);

// Runs body, turning exceptions into "llcbench <command>: error: <message>" on stderr and the
// exception's exit code.
int guarded(const std::string& command, const std::function<int()>& body);

// Runs tools/report.py (LLCB_REPORT_SCRIPT, or the path the build recorded) with `args` under
// Debian's python3 (LLCB_PYTHON picks another) and returns its exit code. UsageError when the
// script is missing; RuntimeError when python cannot be started.
int run_report_script(const std::vector<std::string>& args);

}  // namespace llcb::cli
