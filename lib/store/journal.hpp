// The store's journal: FILE.journal beside the store FILE, the write-ahead log of its writers
// (docs/store.md, "Durability and repair"). Every finished job is appended here, checksummed,
// before it is written into the HDF5 file, and the journal keeps every job for the life of the
// store: HDF5 does not promise that a file whose writer is killed keeps what an earlier flush
// wrote (a later write may tear a block that other jobs' data hangs on), so a job that finished is
// never lost whatever happens to the HDF5 file; the store can be rebuilt from its config and the
// journal (lib/sweep/repair.hpp). It costs about the disk of the traces, uncompressed.
//
// Layout: the 8 bytes "LLCBJRN1", then records
//   u32 0x4a52434c, u8 type, u64 payload length, payload, u64 fnv1a64(type byte + payload)
// of types
//   header   the store's StoreHeader (config text, canonical config, config hash, seed recipe)
//   session  a writer opened the store (host, pid, unix time, then its rank count and what it
//            was, "sweep" or "reduce", which journals of earlier versions lack)
//   job      a finished job: its /jobs row, id, JobResult and trace (rows x chains, float32)
//   calibration  a finished calibration: its /calibrations row, unit id, CalibrationRecord and
//            trace (rows x columns, float32; docs/store.md)
//   clean    the writer closed the store cleanly
// all little-endian (lib/core/bytes.hpp). A session record after the last clean record marks a
// store whose writer stopped without closing it, which the next writer checks (and repairs if
// need be) before anything else.
//
// Damage: a record cut short at the end (an append killed halfway) is cut off; every record before
// it holds. Anything else that fails its checksum (a changed byte, a header that cannot be read,
// a journal of another store) is set aside whole as FILE.journal.damaged-TIME (or
// .orphan-TIME), the records that verify are copied into a new journal, and the store counts as
// not closed cleanly, so that the next writer checks it.
//
// Appends use write(2) without fsync: they survive the death of the process, not of the machine.
// Not thread-safe; one writer process (StoreLock).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lib/store/calibration_record.hpp"
#include "lib/store/job_result.hpp"

namespace llcb::store {

struct StoreHeader {
  std::string config_text, config_canonical, config_hash, seed_recipe;
};

// A writer's session as its journal record has it: ranks is the MPI world size of a sweep (1
// without mpirun), what is "sweep" or "reduce"; 0 and "" where the record predates them.
struct JournalSession {
  std::string host;
  std::int64_t pid = 0, unix_time = 0, ranks = 0;
  std::string what;
};

struct JournalJob {
  std::int64_t row = 0;
  std::string job_id;
  JobResult result;
  std::vector<float> trace;  // rows x chains, row-major; empty for a failed job
};

struct JournalCalibration {
  std::int64_t row = 0;
  std::string unit_id;
  CalibrationRecord record;
  std::vector<float> trace;  // rows x columns, row-major
};

class Journal {
 public:
  static std::string path_of(const std::string& store_path) { return store_path + ".journal"; }

  // The latest record of a job: where it is, and the checksum (job_checksum) of what it holds.
  struct Entry {
    std::uint64_t offset = 0;
    std::int64_t checksum = 0;
  };

  // Opens FILE.journal for appending; `header` is the store's. A journal that does not exist is
  // created with it; one whose header is another store's (another config hash) is set aside as an
  // orphan and a new one started. RuntimeError when the file cannot be read or written.
  static Journal open(const std::string& store_path, const StoreHeader& header);
  // A new store's journal: one left by an earlier store of the same name is set aside first.
  static Journal create(const std::string& store_path, const StoreHeader& header);
  Journal(Journal&&) noexcept;
  Journal& operator=(Journal&&) noexcept;
  ~Journal();

  // The last writer did not close the store cleanly (or the journal itself was damaged).
  bool dirty() const { return dirty_; }
  const StoreHeader& header() const { return header_; }
  std::int64_t jobs() const { return jobs_; }
  // The latest record of each job, by id (a job that ran again has a later record).
  const std::map<std::string, Entry>& latest() const { return latest_; }
  JournalJob job_at(std::uint64_t offset) const;
  // The offset of the latest record of each calibration, by unit id.
  const std::map<std::string, std::uint64_t>& latest_calibrations() const { return calibrations_; }
  JournalCalibration calibration_at(std::uint64_t offset) const;
  // Every session record, oldest first (this writer's last, once begin_session ran).
  const std::vector<JournalSession>& sessions() const { return sessions_; }

  // Appends a record; throws RuntimeError when the write fails (the record is then cut off).
  // A writer opened the store: what it is ("sweep", "reduce"), host, pid, now, and its rank count.
  void begin_session(const std::string& what, const std::string& host, std::int64_t pid, std::int64_t ranks);
  void append_job(const JournalJob& job);
  void append_calibration(const JournalCalibration& c);
  void mark_clean();  // the writer closed the store cleanly

 private:
  Journal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  void append(std::uint8_t type, const std::vector<char>& payload);
  void start(const StoreHeader& header);  // an empty file: magic and header
  std::string path_;
  int fd_ = -1;
  StoreHeader header_;
  std::uint64_t end_ = 0;
  std::int64_t jobs_ = 0;
  std::map<std::string, Entry> latest_;
  std::map<std::string, std::uint64_t> calibrations_;
  std::vector<JournalSession> sessions_;
  bool dirty_ = false;
};

// What FILE.journal holds, read without opening it for writing (status, reduce, a resume deciding
// what to do): a quick look that checks only the header's checksum and stops at the first record
// that is cut short.
struct JournalContents {
  bool has_header = false;
  StoreHeader header;
  std::int64_t jobs = 0;  // job records
  bool dirty = false;
};
JournalContents read_journal(const std::string& store_path);

// The store's `sessions` attribute (docs/store.md): a line per session, oldest first, as
// "2026-12-06T21:50:00Z sweep ranks=3 host=node1 pid=4242" (ranks=? and no kind for records of
// earlier versions); past 200 sessions the oldest are left out and a first line says how many.
std::string session_lines(const std::vector<JournalSession>& sessions);

}  // namespace llcb::store
