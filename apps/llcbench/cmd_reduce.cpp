// llcbench reduce FILE: recompute the store's /summary from its jobs, write it and print it. It
// takes the store's lock: refused while a sweep writes the store (query FILE summary computes a
// live summary without writing), and on a store that was not closed cleanly (resume the sweep, or
// llcbench repair, first). Both are decided before the lock is taken, so a refused reduce never
// disturbs a writer nor takes a stale lock over; and since every writer leaves a store it has not
// closed marked so, reduce has no --force-lock: it could only take a lock over to refuse.
#include <unistd.h>

#include <iostream>

#include "apps/llcbench/cli.hpp"
#include "apps/llcbench/table_output.hpp"
#include "lib/reduce/reduce.hpp"
#include "lib/core/error.hpp"
#include "lib/core/host.hpp"
#include "lib/store/lock.hpp"
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
    const auto refuse_unclosed = [&] {
      if (store::read_journal(path).dirty) {
        throw UsageError("store '" + path + "' was not closed cleanly by its last writer: resume its sweep "
                         "(or run llcbench repair " + path + ") before reducing it");
      }
    };
    const store::LockInfo held = store::read_lock(path);
    if (held.found && !held.stale) store::StoreLock::acquire(path, "reduce", false);  // refused: names the writer
    refuse_unclosed();
    const store::StoreLock lock = store::StoreLock::acquire(path, "reduce", false);
    refuse_unclosed();  // a writer that ended in between
    store::Store st = store::Store::open(path, true);
    // A writer like any other: its session is journaled, so a reduce killed while it writes
    // /summary leaves a store the next writer checks.
    store::Journal journal = store::Journal::open(path, st.header());
    journal.begin_session("reduce", host_name(), ::getpid(), 1);
    st.write_sessions(store::session_lines(journal.sessions()));
    const store::Table summary = reduce::summarize(st.table("jobs"));
    st.write_summary(summary);
    st.close();
    journal.mark_clean();
    print_summary(std::cout, summary, format, path);
    return 0;
  });
}

}  // namespace llcb::cli
