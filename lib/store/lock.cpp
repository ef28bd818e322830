#include "lib/store/lock.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <sstream>

#include "lib/core/error.hpp"
#include "lib/core/host.hpp"
#include "lib/core/log.hpp"
#include "lib/core/utc.hpp"

namespace llcb::store {
namespace {

// Linux: the state letter and start time (clock ticks after boot) of a process from
// /proc/PID/stat; false when there is no such process (or no /proc).
bool proc_stat(std::int64_t pid, char& state, std::int64_t& start) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return false;
  std::string text(1024, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);
  const auto paren = text.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos) return false;
  std::istringstream in(text.substr(paren + 2));
  in >> state;
  std::string field;
  for (int i = 4; i < 22 && in >> field; ++i) {
  }
  return static_cast<bool>(in >> start);
}

std::int64_t own_start() {
  char state = 0;
  std::int64_t start = 0;
  return proc_stat(::getpid(), state, start) ? start : 0;
}

// A process of this host is gone when it does not exist, is a zombie nobody reaped (an orphan in
// a container whose init does not reap), or its PID now names a later process.
bool process_gone(std::int64_t pid, std::int64_t recorded_start) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return true;
  char state = 0;
  std::int64_t start = 0;
  if (!proc_stat(pid, state, start)) return false;  // no /proc: trust kill()
  return state == 'Z' || state == 'X' || (recorded_start > 0 && start != recorded_start);
}

std::string content(const std::string& host, std::int64_t pid, std::int64_t start, std::int64_t since,
                    std::int64_t beat, const std::string& purpose) {
  return "host=" + host + "\npid=" + std::to_string(pid) + "\nstart=" + std::to_string(start) +
         "\nsince=" + std::to_string(since) + "\nheartbeat=" + std::to_string(beat) +
         "\npurpose=" + purpose + "\n";
}

bool parse(const std::string& text, LockInfo& info) {
  std::istringstream in(text);
  std::string line;
  int fields = 0;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    try {
      if (key == "host") info.host = value, ++fields;
      if (key == "purpose") info.purpose = value, ++fields;
      if (key == "pid") info.pid = std::stoll(value), ++fields;
      if (key == "since") info.since = std::stoll(value), ++fields;
      if (key == "heartbeat") info.heartbeat = std::stoll(value), ++fields;
      if (key == "start") info.start = std::stoll(value);
    } catch (const std::exception&) {
      return false;
    }
  }
  return fields == 5;
}

std::string describe(const LockInfo& l) {
  char age[32];
  std::snprintf(age, sizeof age, "%.0f", l.age);
  if (l.pid == 0) return std::string("a writer whose lock file cannot be read (last modified ") + age + " s ago)";
  return "pid " + std::to_string(l.pid) + " on " + l.host + " (" + l.purpose + ", since " + utc_iso(static_cast<std::time_t>(l.since)) +
         ", last heartbeat " + age + " s ago)";
}

}  // namespace

LockInfo read_lock(const std::string& store_path) {
  LockInfo info;
  const std::string path = StoreLock::path_of(store_path);
  const std::string here = host_name();
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (!f) return info;  // no lock: no writer
    std::string text(4096, '\0');
    text.resize(std::fread(text.data(), 1, text.size(), f));
    std::fclose(f);
    LockInfo l;
    if (parse(text, l)) {
      l.found = true;
      l.age = static_cast<double>(std::time(nullptr) - l.heartbeat);
      // On this host the process itself says whether the writer lives (a live one whose heartbeat
      // lags, stopped or starved, keeps its lock); elsewhere only the heartbeat can.
      l.stale = l.host == here ? process_gone(l.pid, l.start) : l.age > kStaleSeconds;
      return l;
    }
    ::usleep(50'000);  // caught in the middle of a heartbeat: read it again
  }
  // Unreadable: a lock file being written, one whose writer died between creating and writing it,
  // or not one of ours. Its modification time stands in for the heartbeat.
  info.found = true;
  info.host = "unknown";
  info.purpose = "unknown";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return LockInfo{};  // removed meanwhile
  info.since = info.heartbeat = static_cast<std::int64_t>(st.st_mtime);
  info.age = static_cast<double>(std::time(nullptr) - info.heartbeat);
  info.stale = info.age > kStaleSeconds;
  return info;
}

struct StoreLock::State {
  std::string path, host, purpose;
  std::int64_t pid = 0, start = 0, since = 0;
  int fd = -1;
  ino_t inode = 0;
  std::thread beat;
  std::mutex m;
  std::condition_variable cv;
  bool stop = false;

  void write_now() {
    const std::string c = content(host, pid, start, since, std::time(nullptr), purpose);
    if (::pwrite(fd, c.data(), c.size(), 0) == static_cast<ssize_t>(c.size())) {
      (void)::ftruncate(fd, static_cast<off_t>(c.size()));
    }
  }
  // FILE.lock is still the file this writer created.
  bool held() const {
    struct stat mine {}, now {};
    return ::fstat(fd, &mine) == 0 && mine.st_nlink > 0 && ::stat(path.c_str(), &now) == 0 &&
           now.st_ino == inode && now.st_dev == mine.st_dev;
  }
};

StoreLock::StoreLock(std::unique_ptr<State> s) : state_(std::move(s)) {}
StoreLock::StoreLock(StoreLock&&) noexcept = default;

StoreLock StoreLock::acquire(const std::string& store_path, const std::string& purpose, bool force) {
  // A writer needs the store and its journal writable. One that is not is the user's choice (or a
  // read-only file system), never damage: refused before anything is taken, moved or rebuilt.
  for (const std::string& file : {store_path, store_path + ".journal"}) {
    if (::access(file.c_str(), F_OK) == 0 && ::access(file.c_str(), W_OK) != 0) {
      throw UsageError("store '" + store_path + "' cannot be written (" + file + ": " + std::strerror(errno) +
                       "); " + purpose + " writes it, so make it writable first");
    }
  }
  const bool exists = ::access(store_path.c_str(), F_OK) == 0;
  auto s = std::make_unique<State>();
  s->path = path_of(store_path);
  s->host = host_name();
  s->purpose = purpose;
  s->pid = ::getpid();
  s->start = own_start();
  s->since = std::time(nullptr);
  for (int attempt = 0; attempt < 5 && s->fd < 0; ++attempt) {
    s->fd = ::open(s->path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (s->fd >= 0) break;
    if (errno != EEXIST) {
      throw UsageError((exists ? "cannot lock store '" : "cannot create store '") + store_path +
                       "' (its lock file " + s->path + ": " + std::strerror(errno) +
                       "; is the directory there and writable?)");
    }
    struct stat judged {};
    if (::stat(s->path.c_str(), &judged) != 0) continue;  // released meanwhile
    const LockInfo held = read_lock(store_path);
    if (!held.found) continue;
    if (!held.stale && !force) {
      throw UsageError("store '" + store_path + "' is being written by " + describe(held) +
                       "; one writer at a time (read it with query or status" +
                       (purpose == "reduce" ? "" : "; --force-lock takes it over if that writer is gone") + ")");
    }
    // Move the old lock aside (atomic: of two contenders one wins), then create ours. If the file
    // moved is not the one judged (a contender took the stale lock over in between and this is
    // its new one), put it back and look again.
    const std::string aside = s->path + ".stale." + std::to_string(s->pid);
    if (::rename(s->path.c_str(), aside.c_str()) != 0) continue;
    struct stat moved {};
    if (::stat(aside.c_str(), &moved) == 0 && (moved.st_ino != judged.st_ino || moved.st_dev != judged.st_dev)) {
      if (::link(aside.c_str(), s->path.c_str()) != 0) {
        log::warn("store lock '{}': a contender's lock could not be put back ({})", s->path, std::strerror(errno));
      }
      ::unlink(aside.c_str());
      continue;
    }
    ::unlink(aside.c_str());
    log::warn("taking over the store lock of {} ({})", describe(held),
              !held.stale ? "--force-lock"
              : held.host == host_name() ? "stale: that process is gone"
                                         : "stale: no heartbeat for longer than the stale limit");
  }
  if (s->fd < 0) throw UsageError("cannot lock store '" + store_path + "': another writer keeps taking it");
  struct stat st {};
  if (::fstat(s->fd, &st) == 0) s->inode = st.st_ino;
  s->write_now();
  State* raw = s.get();
  s->beat = std::thread([raw] {
    std::unique_lock<std::mutex> lk(raw->m);
    while (!raw->cv.wait_for(lk, std::chrono::duration<double>(kHeartbeatSeconds), [raw] { return raw->stop; })) {
      raw->write_now();
    }
  });
  return StoreLock(std::move(s));
}

bool StoreLock::lost() const { return state_ && !state_->held(); }

StoreLock::~StoreLock() {
  if (!state_) return;
  {
    std::lock_guard<std::mutex> lk(state_->m);
    state_->stop = true;
  }
  state_->cv.notify_all();
  if (state_->beat.joinable()) state_->beat.join();
  struct stat now {};
  if (::stat(state_->path.c_str(), &now) == 0 && now.st_ino == state_->inode) ::unlink(state_->path.c_str());
  if (state_->fd >= 0) ::close(state_->fd);
}

}  // namespace llcb::store
