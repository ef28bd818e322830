// llcbench reduce FILE: recompute the store's /summary from its jobs and print it.
#include <iostream>

#include "apps/llcbench/cli.hpp"
#include "apps/llcbench/table_output.hpp"
#include "lib/reduce/reduce.hpp"
#include "lib/store/store.hpp"

namespace llcb::cli {

int cmd_reduce(const std::vector<std::string>& args) {
  return guarded("reduce", [&] {
    po::options_description desc("options");
    desc.add_options()("store", po::value<std::string>(), "the sweep's HDF5 store")(
        "format", po::value<std::string>()->default_value("table"), "table, csv or json");
    add_common_options(desc);
    po::positional_options_description pos;
    pos.add("store", 1);
    po::variables_map vm;
    if (!parse(args, desc, "usage: llcbench reduce FILE [--format table|csv|json]", vm, &pos)) return 0;
    const TableFormat format = parse_table_format(vm["format"].as<std::string>());
    const std::string& path = required(vm, "store", "demo.h5");
    store::Store st = store::Store::open(path, true);
    const store::Table summary = reduce::summarize(st.table("jobs"));
    st.write_summary(summary);
    print_summary(std::cout, summary, format, path);
    return 0;
  });
}

}  // namespace llcb::cli
