// One writer per store: FILE.lock beside the store FILE names the process that writes it.
//
// The lock file is created with O_EXCL (atomic on local disks and on NFSv3+ and the usual cluster
// file systems, where advisory fcntl/flock locks may not work) and holds, one "key=value" a line:
// host, pid, start (the process's start time after boot, where /proc gives it), since (unix
// time), heartbeat (unix time, rewritten every kHeartbeatSeconds by a thread of the writer) and
// purpose (sweep, reduce, repair). A holder is stale, and its lock is taken over with a warning,
// when it is on this host and its process is gone (no such process, an unreaped zombie, or a later
// process with its PID; a live process of this host keeps its lock however late its heartbeat),
// or when it is on another host and its heartbeat is older than kStaleSeconds (clocks of the hosts
// sharing a store are assumed to agree within that, as NTP keeps them). A lock file that cannot be
// read (a writer killed between creating and writing it) is stale once its modification time is
// older than kStaleSeconds. `force` takes any lock over. The writer removes its lock when it is
// done; a writer killed leaves it, stale. Readers never take it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace llcb::store {

constexpr double kHeartbeatSeconds = 5;
constexpr double kStaleSeconds = 60;

struct LockInfo {
  bool found = false;
  std::string host, purpose;
  std::int64_t pid = 0, since = 0, heartbeat = 0;  // since and heartbeat: unix times
  std::int64_t start = 0;  // the process's start time after boot (Linux), to tell PID reuse
  double age = 0;       // seconds since the last heartbeat, on this host's clock
  bool stale = false;   // by the rule above
};

// The lock of FILE as it is now (found == false when no writer holds it).
LockInfo read_lock(const std::string& store_path);

class StoreLock {
 public:
  static std::string path_of(const std::string& store_path) { return store_path + ".lock"; }

  // Takes the lock of FILE for `purpose`; UsageError naming the holder (host, pid, since when,
  // its last heartbeat) when a live writer holds it and `force` is off, and, before anything
  // else, when FILE or FILE.journal exists but cannot be written (read-only). Starts the heartbeat.
  static StoreLock acquire(const std::string& store_path, const std::string& purpose, bool force);
  StoreLock(StoreLock&&) noexcept;
  StoreLock& operator=(StoreLock&&) = delete;
  ~StoreLock();  // stops the heartbeat and removes the lock file (if it is still this one)

  // True when FILE.lock is no longer the file this writer created (another process removed or
  // replaced it: a --force takeover): the writer must stop writing. A stat(2), cheap enough to
  // ask before every write.
  bool lost() const;

 private:
  struct State;
  explicit StoreLock(std::unique_ptr<State> s);
  std::unique_ptr<State> state_;
};

}  // namespace llcb::store
