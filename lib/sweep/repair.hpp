// Rebuilding a damaged store (docs/store.md, "Durability and repair"): from its config (read from
// the store's header, or from its journal's when the store cannot be opened or is gone) a new
// store is made with every job pending; then every job recorded in the journal is written into
// it as its latest record has it (the journal checksums every record), and every other finished
// job of the old store whose checksum holds (or that predates checksums) is copied. The rebuilt
// store replaces FILE atomically; the old file stays beside it as FILE.damaged-YYYYmmddTHHMMSSZ;
// the journal, which keeps every record, is marked clean.
//
// The caller holds the store's lock. UsageError when there is nothing to rebuild from (neither
// the store nor a journal has a readable header) or the config is not one this version accepts.
#pragma once

#include <cstdint>
#include <string>

#include "lib/store/journal.hpp"

namespace llcb::sweep {

struct RepairReport {
  std::int64_t jobs = 0;            // in the grid
  std::int64_t from_journal = 0;    // finished jobs written from the journal
  std::int64_t from_store = 0;      // finished jobs copied from the old store, checksum verified
  std::int64_t unverified = 0;      // of those, copied from a store without checksums
  std::int64_t lost = 0;            // finished before, but neither the journal nor the store holds them readably
  std::int64_t pending = 0;         // to run (again) on resume
  std::string damaged_path;         // where the old file now is ("" when there was none)
};

RepairReport repair_store(const std::string& path);

// One line: "rebuilt FILE: 40 of 64 jobs kept (12 from the journal, 28 from the store), 24 to run
// again (2 of them lost); the damaged file is FILE.damaged-..."
std::string describe(const RepairReport& r, const std::string& path);

}  // namespace llcb::sweep
