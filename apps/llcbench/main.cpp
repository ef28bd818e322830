// llcbench: the command-line entry point. Dispatches to the subcommands of cli.hpp.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "apps/llcbench/cli.hpp"
#include "lib/core/error.hpp"
#include "lib/core/philox_blocks.hpp"
#include "lib/core/version.hpp"
#include "lib/dln/linalg.hpp"

namespace {

void print_usage(std::ostream& os) {
  os << "usage: llcbench COMMAND [OPTIONS]   (llcbench COMMAND --help for its options)\n\n"
        "commands:\n";
  std::size_t width = 0;
  for (const auto& c : llcb::cli::commands()) width = std::max(width, c.name.size());
  for (const auto& c : llcb::cli::commands()) {
    os << "  " << c.name << std::string(width + 2 - c.name.size(), ' ') << c.summary << "\n";
  }
  os << "\n  --version  print the version and exit\n";
}

}  // namespace

int main(int argc, char** argv) {
  llcb::dln::hold_blas_to_openmp();  // before any product: a threaded one could wait forever
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_usage(std::cerr);
    return llcb::kExitUsage;
  }
  const std::string& first = args.front();
  if (first == "--version") {
    std::cout << "llcbench " << llcb::version() << " (commit " << llcb::git_commit() << ")\n";
    return llcb::kExitOk;
  }
  if (first == "--help" || first == "-h" || first == "help") {
    print_usage(std::cout);
    return llcb::kExitOk;
  }
  if (llcb::DrawPath cap; !llcb::draws_cap(std::getenv("LLCB_DRAWS"), cap)) {
    std::cerr << "llcbench: error: LLCB_DRAWS is '" << std::getenv("LLCB_DRAWS")
              << "'; it takes avx512, avx2 or scalar (or is unset)\n";
    return llcb::kExitUsage;
  }
  for (const auto& c : llcb::cli::commands()) {
    if (c.name == first) {
      return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
    }
  }
  std::cerr << "llcbench: error: unknown command '" << first << "' (see llcbench --help)\n";
  return llcb::kExitUsage;
}
