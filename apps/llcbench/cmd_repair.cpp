// llcbench repair FILE [--force-lock]: rebuilds a store from its config and journal, keeping every
// finished job whose record verifies (docs/store.md, "Durability and repair"); the old file stays
// beside it. `sweep --resume` does the same on its own when it finds a store damaged.
#include <iostream>

#include "apps/llcbench/cli.hpp"
#include "lib/store/lock.hpp"
#include "lib/sweep/repair.hpp"

namespace llcb::cli {

int cmd_repair(const std::vector<std::string>& args) {
  return guarded("repair", [&] {
    po::options_description desc("options");
    desc.add_options()("store", po::value<std::string>(), "the sweep's HDF5 store")(
        "force-lock", po::bool_switch(), "take the store's lock over from a writer that is still heartbeating");
    add_common_options(desc);
    po::positional_options_description pos;
    pos.add("store", 1);
    po::variables_map vm;
    if (!parse(args, desc, "usage: llcbench repair FILE [--force-lock]", vm, &pos)) return 0;
    const std::string& path = required(vm, "store", "demo.h5");
    const store::StoreLock lock = store::StoreLock::acquire(path, "repair", vm["force-lock"].as<bool>());
    const sweep::RepairReport report = sweep::repair_store(path);
    std::cout << sweep::describe(report, path) << "\n";
    return 0;
  });
}

}  // namespace llcb::cli
