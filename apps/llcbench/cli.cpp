#include "apps/llcbench/cli.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "lib/core/error.hpp"
#include "lib/core/log.hpp"

#ifndef LLCB_REPORT_SCRIPT
#define LLCB_REPORT_SCRIPT "tools/report.py"
#endif

namespace llcb::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> list = {
      {"truth", "exact true LLC of a deep linear network (--widths, --rank)", cmd_truth},
      {"problem", "draw a learning problem from a model class and seed", cmd_problem},
      {"run", "run one SGMCMC chain and estimate the LLC", cmd_run},
      {"bench", "steps/s and GFLOP/s of chains against the sgemm floor", cmd_bench},
      {"calibrate", "recommend a sampler's step size from short chains, without the truth", cmd_calibrate},
#if LLCB_STORE_COMMANDS
      {"sweep", "run or resume a sweep of jobs into an HDF5 store", cmd_sweep},
      {"reduce", "recompute a store's summary table", cmd_reduce},
      {"query", "print a store's summary, jobs, problems or a trace", cmd_query},
      {"status", "count a store's done, failed and pending jobs; exit code 0, 1 or 3", cmd_status},
      {"repair", "rebuild a damaged store from its config and journal", cmd_repair},
      {"report", "figures, CSVs and an HTML page of a store (matplotlib)", cmd_report},
#endif
  };
  return list;
}

void add_common_options(po::options_description& desc, const char* default_level) {
  desc.add_options()("help,h", "show this help and exit")(
      "log-level", po::value<std::string>()->default_value(default_level),
      "trace, debug, info, warn, error or off (logs go to stderr)");
}

bool parse(const std::vector<std::string>& args, const po::options_description& desc,
           const std::string& usage, po::variables_map& vm,
           const po::positional_options_description* positional) {
  // Boost takes the word after an option as its value even when that word is another option
  // (`--steps --json` said "--steps: '--json' is negative"); no value of llcbench's starts with "--".
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() <= 2 || a.rfind("--", 0) != 0 || a.find('=') != std::string::npos) continue;
    const po::option_description* d = nullptr;
    try {
      d = desc.find_nothrow(a.substr(2), true);  // as Boost matches it: an unambiguous prefix too
    } catch (const po::error&) {
      continue;  // ambiguous: Boost's own parse says so
    }
    if (d && d->semantic()->min_tokens() > 0 && args[i + 1].rfind("--", 0) == 0) {
      throw UsageError("the required argument for option '" + a + "' is missing (before " + args[i + 1] + ")");
    }
  }
  try {
    po::command_line_parser parser(args);
    parser.options(desc);
    if (positional) {
      parser.positional(*positional);
    } else {
      parser.positional(po::positional_options_description());  // positionals are errors
    }
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  if (vm.count("help")) {
    std::cout << usage << "\n\n" << desc << "\n";
    return false;
  }
  log::set_level(log::parse_level(vm["log-level"].as<std::string>()));
  return true;
}

void check_output_file(const std::string& option, const std::string& path, const std::string& suffix) {
  namespace fs = std::filesystem;
  const std::string what = option + ": '" + path + "'";
  if (path.empty()) throw UsageError(option + ": the file name is empty");
  if (path.back() == '/' || fs::is_directory(path)) {
    throw UsageError(what + " is a directory; give a file name" + (suffix.empty() ? "" : " ending in " + suffix));
  }
  if (!suffix.empty() && (path.size() <= suffix.size() || path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0)) {
    throw UsageError(what + " must end in " + suffix);
  }
  if (fs::exists(path)) {  // a file to overwrite (/dev/stdout among them): it must be writable itself
    if (::access(path.c_str(), W_OK) != 0) throw UsageError(what + " cannot be written (" + std::strerror(errno) + ")");
    return;
  }
  const fs::path parent = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
  if (!fs::is_directory(parent)) throw UsageError(what + ": its directory " + parent.string() + " does not exist");
  if (::access(parent.c_str(), W_OK) != 0) {
    throw UsageError(what + ": its directory " + parent.string() + " cannot be written (" + std::strerror(errno) + ")");
  }
}

const std::string& required(const po::variables_map& vm, const std::string& name,
                            const std::string& example) {
  if (!vm.count(name)) {
    throw UsageError("--" + name + " is required (for example --" + name + " " + example + ")");
  }
  return vm[name].as<std::string>();
}

void read_store_retrying(const std::function<void()>& read) {
  for (int attempt = 1;; ++attempt) {
    try {
      read();
      return;
    } catch (const Error&) {
      if (attempt == 5) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

std::string format_duration(double s) {
  char buf[32];
  if (s < 120) {
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  } else if (s < 7200) {
    std::snprintf(buf, sizeof buf, "%.1f min", s / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  }
  return buf;
}

std::string printable(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    // The length of a well-formed UTF-8 sequence starting here (1 for printable ASCII), else 0.
    std::size_t n = c >= 0x20 && c < 0x7f ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                  : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    for (std::size_t k = 1; k < n; ++k) {
      if (i + k >= text.size() || (static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) n = 0;
    }
    if (n > 1) {  // no overlong forms, surrogates or code points past U+10FFFF; no C1 controls
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      if ((c == 0xc2 && c1 < 0xa0) || (c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) ||
          (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90)) {
        n = 0;
      }
    }
    if (n == 0) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

int guarded(const std::string& command, const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& e) {
    std::cerr << "llcbench " << command << ": error: " << printable(e.what()) << "\n";
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::cerr << "llcbench " << command << ": error: out of memory\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "llcbench " << command << ": error: " << printable(e.what()) << "\n";
    return kExitFailure;
  }
}

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Runs argv[0] with argv, waits, and returns its exit code (128 + N for a signal).
int run_and_wait(const std::vector<std::string>& argv) {
  std::vector<char*> raw;
  for (const auto& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
  raw.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw RuntimeError("cannot start " + argv[0]);
  if (pid == 0) {
    ::execvp(raw[0], raw.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw RuntimeError("lost track of " + argv[0] + ": " + std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    throw RuntimeError("cannot run " + argv[0] + " (set LLCB_PYTHON to a python3 with matplotlib)");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int run_report_script(const std::vector<std::string>& args) {
  std::error_code ec;
  const std::string script = env_or("LLCB_REPORT_SCRIPT", LLCB_REPORT_SCRIPT);
  if (!std::filesystem::exists(script, ec)) {
    throw UsageError("the report script '" + script + "' is missing (set LLCB_REPORT_SCRIPT to tools/report.py)");
  }
  const std::string python = env_or("LLCB_PYTHON", std::filesystem::exists("/usr/bin/python3", ec)
                                                       ? "/usr/bin/python3" : "python3");
  std::vector<std::string> argv{python, script};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_and_wait(argv);
}

}  // namespace llcb::cli
