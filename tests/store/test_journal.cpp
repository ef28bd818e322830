// The store's journal (write-ahead log of finished jobs), its lock, and the checksums that let a
// writer tell a sound store from a damaged one.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "lib/core/bytes.hpp"
#include "lib/core/error.hpp"
#include "lib/core/hash.hpp"
#include "lib/core/host.hpp"
#include "lib/store/journal.hpp"
#include "lib/store/lock.hpp"
#include "lib/store/store.hpp"

namespace llcb::store {
namespace {

namespace fs = std::filesystem;

std::string temp(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("llcb_journal_" + std::to_string(::getpid()) + "_" + name);
  fs::remove(p);
  fs::remove(Journal::path_of(p.string()));
  fs::remove(StoreLock::path_of(p.string()));
  return p.string();
}

JournalJob job(std::int64_t row, float first) {
  JournalJob j;
  j.row = row;
  j.job_id = "job" + std::to_string(row);
  j.result.status = "done";
  j.result.lambda_hat = 1.5 * static_cast<double>(row);
  j.result.host = "h";
  j.trace = {first, first + 1, NAN};
  return j;
}

// The latest record of each job, in the order they were appended.
std::vector<JournalJob> jobs_of(const Journal& j) {
  std::map<std::uint64_t, std::string> by_offset;
  for (const auto& [id, entry] : j.latest()) by_offset[entry.offset] = id;
  std::vector<JournalJob> out;
  for (const auto& [offset, id] : by_offset) out.push_back(j.job_at(offset));
  return out;
}

// Files beside `store` whose name starts with FILE.journal.`kind`-.
int set_aside(const std::string& store, const std::string& kind) {
  int n = 0;
  const std::string prefix = fs::path(Journal::path_of(store)).filename().string() + "." + kind + "-";
  for (const auto& f : fs::directory_iterator(fs::path(store).parent_path())) {
    n += f.path().filename().string().rfind(prefix, 0) == 0;
  }
  return n;
}

TEST(Journal, RecordsSurviveAndATornTailIsCutOff) {
  const std::string store = temp("torn.h5");
  const StoreHeader header{"config text", "a=1\n", "hash", "recipe"};
  {
    Journal j = Journal::open(store, header);
    EXPECT_FALSE(j.dirty());  // a new journal holds its header only
    j.begin_session("sweep", "h", 7, 3);
    EXPECT_TRUE(j.dirty());
    j.append_job(job(3, 1.0f));
    j.append_job(job(5, 2.0f));
  }
  const std::uintmax_t whole = fs::file_size(Journal::path_of(store));
  // A writer killed in the middle of an append: the last record is cut short.
  {
    Journal j = Journal::open(store, header);
    j.append_job(job(9, 3.0f));
  }
  fs::resize_file(Journal::path_of(store), fs::file_size(Journal::path_of(store)) - 5);
  const JournalContents c = read_journal(store);
  ASSERT_TRUE(c.has_header);
  EXPECT_EQ(c.header.config_canonical, "a=1\n");
  EXPECT_TRUE(c.dirty);
  EXPECT_EQ(c.jobs, 2);  // the torn record is not read
  // The next writer cuts the torn tail off and appends after the last whole record.
  Journal j = Journal::open(store, header);
  EXPECT_EQ(fs::file_size(Journal::path_of(store)), whole);
  EXPECT_TRUE(j.dirty());
  const std::vector<JournalJob> read = jobs_of(j);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[1].row, 5);
  EXPECT_EQ(read[1].job_id, "job5");
  EXPECT_EQ(read[1].result.lambda_hat, 7.5);
  EXPECT_EQ(read[1].result.host, "h");
  EXPECT_EQ(read[1].trace[1], 3.0f);
  EXPECT_TRUE(std::isnan(read[1].trace[2]));
  j.append_job(job(11, 4.0f));
  j.append_job(job(3, 8.0f));  // a job written again: its latest record is the one that counts
  const auto& latest = j.latest();
  ASSERT_EQ(latest.size(), 3u);
  EXPECT_EQ(j.job_at(latest.at("job3").offset).trace[0], 8.0f);
  EXPECT_EQ(latest.at("job3").checksum, job_checksum(job(3, 8.0f).result, job(3, 8.0f).trace));
  EXPECT_EQ(j.job_at(latest.at("job11").offset).row, 11);
  EXPECT_THROW(j.job_at(3), RuntimeError);  // not the start of a job record
  // A clean close marks it clean and keeps every record (the store's complete log).
  j.mark_clean();
  EXPECT_FALSE(j.dirty());
  const JournalContents after = read_journal(store);
  EXPECT_FALSE(after.dirty);
  EXPECT_EQ(after.jobs, 4);
  Journal reopened = Journal::open(store, header);
  EXPECT_FALSE(reopened.dirty());
  reopened.begin_session("reduce", "h", 8, 1);
  EXPECT_TRUE(read_journal(store).dirty);  // a new writer that has not closed yet
}

// A session record as journals of earlier versions wrote it: host, pid, time and nothing else.
void append_old_session(const std::string& store, const std::string& host, std::int64_t pid, std::int64_t time) {
  ByteWriter w;
  w.put_string(host);
  w.put(pid);
  w.put(time);
  const std::vector<char> payload = w.take();
  const std::uint8_t type = 2;  // session
  const std::uint32_t magic = 0x4a52434cu;
  const std::uint64_t length = payload.size();
  const std::uint64_t sum = fnv1a64_bytes(fnv1a64_bytes(kFnv1a64Offset, &type, 1), payload.data(), payload.size());
  std::ofstream f(Journal::path_of(store), std::ios::binary | std::ios::app);
  f.write(reinterpret_cast<const char*>(&magic), 4);
  f.write(reinterpret_cast<const char*>(&type), 1);
  f.write(reinterpret_cast<const char*>(&length), 8);
  f.write(payload.data(), static_cast<std::streamsize>(payload.size()));
  f.write(reinterpret_cast<const char*>(&sum), 8);
}

TEST(Journal, SessionsKeepTheirRankCountAndOldRecordsStillRead) {
  const std::string store = temp("sessions.h5");
  const StoreHeader header{"t", "c", "h", "r"};
  {
    Journal j = Journal::create(store, header);
    j.mark_clean();
  }
  append_old_session(store, "old-host", 11, 1796515200);  // 2026-12-06T00:00:00Z
  {
    Journal j = Journal::open(store, header);
    EXPECT_TRUE(j.dirty());  // an old session record still marks an unclosed store
    j.begin_session("sweep", "node1", 42, 3);
    j.mark_clean();
  }
  Journal j = Journal::open(store, header);
  j.begin_session("reduce", "node2", 43, 1);
  const auto& s = j.sessions();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].host, "old-host");
  EXPECT_EQ(s[0].pid, 11);
  EXPECT_EQ(s[0].ranks, 0);  // not recorded then
  EXPECT_EQ(s[0].what, "");
  EXPECT_EQ(s[1].ranks, 3);
  EXPECT_EQ(s[1].what, "sweep");
  EXPECT_EQ(s[2].host, "node2");
  const std::string lines = session_lines(s);
  EXPECT_EQ(lines.substr(0, lines.find('\n')), "2026-12-06T00:00:00Z ranks=? host=old-host pid=11");
  EXPECT_NE(lines.find(" sweep ranks=3 host=node1 pid=42\n"), std::string::npos);
  EXPECT_NE(lines.find(" reduce ranks=1 host=node2 pid=43\n"), std::string::npos);
  // Past 200 sessions the oldest are left out, and the first line says how many.
  std::vector<JournalSession> many(205, JournalSession{"h", 1, 0, 2, "sweep"});
  const std::string capped = session_lines(many);
  EXPECT_EQ(capped.substr(0, capped.find('\n')), "5 earlier sessions not listed");
  EXPECT_EQ(std::count(capped.begin(), capped.end(), '\n'), 201);
}

TEST(Journal, ARecordWhoseBytesChangedIsSkippedAndTheJournalSetAside) {
  const std::string store = temp("flipped.h5");
  const StoreHeader header{"t", "c", "h", "r"};
  {
    Journal j = Journal::create(store, header);
    j.append_job(job(1, 1.0f));
  }
  const std::uintmax_t first_end = fs::file_size(Journal::path_of(store));
  {
    Journal j = Journal::open(store, header);
    j.append_job(job(2, 2.0f));
    j.append_job(job(3, 3.0f));
    j.mark_clean();
  }
  {  // flip a byte inside the second record's payload
    std::fstream f(Journal::path_of(store), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(first_end + 20));
    f.put('\x5a');
  }
  EXPECT_EQ(read_journal(store).jobs, 3);  // the quick look checks no record's checksum
  const int before = set_aside(store, "damaged");
  const Journal j = Journal::open(store, header);  // a writer checks them all
  const std::vector<JournalJob> read = jobs_of(j);
  ASSERT_EQ(read.size(), 2u);  // the records after the damaged one still count
  EXPECT_EQ(read[0].row, 1);
  EXPECT_EQ(read[1].row, 3);
  EXPECT_TRUE(j.dirty()) << "a damaged journal makes the next writer check the store";
  EXPECT_EQ(set_aside(store, "damaged"), before + 1) << "the damaged journal is kept";
  EXPECT_EQ(read_journal(store).jobs, 2);
}

TEST(Journal, AnotherStoresJournalIsSetAsideAndNotUsed) {
  const std::string store = temp("other.h5");
  {
    Journal j = Journal::create(store, {"t", "c", "hash-A", "r"});
    j.append_job(job(1, 1.0f));
    j.mark_clean();
  }
  const int before = set_aside(store, "orphan");
  const Journal j = Journal::open(store, {"t", "c", "hash-B", "r"});
  EXPECT_TRUE(j.latest().empty());
  EXPECT_TRUE(j.dirty());
  EXPECT_EQ(j.header().config_hash, "hash-B");
  EXPECT_EQ(set_aside(store, "orphan"), before + 1);
  // A new store of the same name does not inherit an earlier store's journal either.
  const Journal fresh = Journal::create(store, {"t", "c", "hash-B", "r"});
  EXPECT_FALSE(fresh.dirty());
  EXPECT_EQ(set_aside(store, "orphan"), before + 2);
}

TEST(Journal, AJournalWithoutAWholeHeaderIsSetAsideAndTheStoreChecked) {
  const std::string store = temp("headless.h5");
  { std::ofstream(Journal::path_of(store)) << "LLCBJ"; }  // killed while writing its magic
  const int before = set_aside(store, "orphan");
  Journal j = Journal::open(store, {"t", "c", "h", "r"});
  EXPECT_TRUE(j.dirty());
  EXPECT_EQ(set_aside(store, "orphan"), before + 1);
  EXPECT_EQ(read_journal(store).header.config_text, "t");
  // A header whose bytes changed: the same.
  {
    std::fstream f(Journal::path_of(store), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8 + 13 + 4);  // inside the header record's payload
    f.put('\x5a');
  }
  const Journal again = Journal::open(store, {"t", "c", "h", "r"});
  EXPECT_TRUE(again.dirty());
  EXPECT_EQ(set_aside(store, "orphan"), before + 2);
}

TEST(StoreLock, OneWriterAtATime) {
  const std::string store = temp("locked.h5");
  {
    const StoreLock first = StoreLock::acquire(store, "sweep", false);
    const LockInfo held = read_lock(store);
    ASSERT_TRUE(held.found);
    EXPECT_EQ(held.pid, ::getpid());
    EXPECT_EQ(held.purpose, "sweep");
    EXPECT_FALSE(held.stale);
    try {
      StoreLock::acquire(store, "reduce", false);
      FAIL() << "a second writer was let in";
    } catch (const UsageError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("is being written by pid " + std::to_string(::getpid())), std::string::npos) << what;
      EXPECT_NE(what.find("(sweep, since "), std::string::npos) << what;
    }
    EXPECT_FALSE(first.lost());
  }
  EXPECT_FALSE(read_lock(store).found);  // released
  const StoreLock again = StoreLock::acquire(store, "sweep", false);
  EXPECT_TRUE(read_lock(store).found);
}

// What StoreLock::acquire(store, "sweep") does in a child without root's privileges (root writes
// read-only files, so as root the child runs as nobody): 0 refused with a message containing
// `expected`, 1 let in, 2 refused otherwise, 3 the privileges could not be dropped.
int acquire_unprivileged(const std::string& store, const std::string& expected) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    try {
      const StoreLock lock = StoreLock::acquire(store, "sweep", false);
      ::_exit(1);
    } catch (const UsageError& e) {
      ::_exit(std::string(e.what()).find(expected) != std::string::npos ? 0 : 2);
    } catch (...) {
      ::_exit(2);
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A store or journal that exists but cannot be written is refused before the lock is taken (the
// user made it read-only; a writer must not treat it as damage and rebuild it), and one in a
// directory that cannot be written is refused as such, not as a store to create.
TEST(StoreLock, AReadOnlyStoreOrJournalIsRefusedUntouched) {
  const fs::path d = fs::temp_directory_path() / ("llcb_readonly_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  fs::permissions(d, fs::perms::all);
  const std::string store = (d / "ro.h5").string();
  std::ofstream(store) << "store";
  std::ofstream(Journal::path_of(store)) << "journal";
  for (const std::string& file : {store, Journal::path_of(store)}) {
    for (const std::string& f : {store, Journal::path_of(store)}) {
      fs::permissions(f, f == file ? fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read
                                   : fs::perms::all);
    }
    EXPECT_EQ(acquire_unprivileged(store, "cannot be written (" + file + ": Permission denied)"), 0) << file;
    EXPECT_FALSE(fs::exists(StoreLock::path_of(store))) << file;
  }
  fs::permissions(store, fs::perms::all);
  fs::permissions(Journal::path_of(store), fs::perms::all);
  fs::permissions(d, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                         fs::perms::others_read | fs::perms::others_exec);
  EXPECT_EQ(acquire_unprivileged(store, "cannot lock store '" + store + "' (its lock file"), 0);
  std::ifstream in(store);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "store");
  fs::remove_all(d);
}

void write_lock(const std::string& store, const std::string& host, std::int64_t pid, std::int64_t heartbeat) {
  std::ofstream(StoreLock::path_of(store)) << "host=" << host << "\npid=" << pid << "\nsince=" << heartbeat
                                          << "\nheartbeat=" << heartbeat << "\npurpose=sweep\n";
}

TEST(StoreLock, AStaleWriterIsTakenOverAndALiveOneOnlyByForce) {
  const std::string store = temp("stale.h5");
  // A writer of this host that is gone (a child that has exited and been reaped).
  const pid_t child = ::fork();
  if (child == 0) _exit(0);
  ::waitpid(child, nullptr, 0);
  write_lock(store, host_name(), child, std::time(nullptr));
  EXPECT_TRUE(read_lock(store).stale);
  { const StoreLock l = StoreLock::acquire(store, "sweep", false); }
  // A writer on another host: live while its heartbeat is recent, stale once it is old.
  write_lock(store, "elsewhere", 12345, std::time(nullptr));
  EXPECT_FALSE(read_lock(store).stale);
  EXPECT_THROW(StoreLock::acquire(store, "sweep", false), UsageError);
  write_lock(store, "elsewhere", 12345, std::time(nullptr) - static_cast<std::int64_t>(kStaleSeconds) - 5);
  EXPECT_TRUE(read_lock(store).stale);
  { const StoreLock l = StoreLock::acquire(store, "sweep", false); }
  // --force-lock takes a live one over, and the writer it was taken from learns it at once.
  const StoreLock victim = StoreLock::acquire(store, "sweep", false);
  EXPECT_FALSE(victim.lost());
  const StoreLock thief = StoreLock::acquire(store, "repair", true);
  EXPECT_EQ(read_lock(store).purpose, "repair");
  EXPECT_TRUE(victim.lost());
  EXPECT_FALSE(thief.lost());
}

TEST(StoreLock, ALiveWriterOfThisHostKeepsItsLockHoweverLateItsHeartbeat) {
  const std::string store = temp("late.h5");
  // This very process, as a writer whose heartbeat stopped an hour ago (stopped, or starved).
  write_lock(store, host_name(), ::getpid(), std::time(nullptr) - 3600);
  const LockInfo l = read_lock(store);
  EXPECT_TRUE(l.found);
  EXPECT_FALSE(l.stale);
  EXPECT_THROW(StoreLock::acquire(store, "sweep", false), UsageError);
  fs::remove(StoreLock::path_of(store));
}

TEST(StoreLock, ALockFileLeftEmptyIsStaleOnceItIsOld) {
  const std::string store = temp("empty.h5");
  { std::ofstream(StoreLock::path_of(store)); }  // a writer killed between creating and writing it
  LockInfo l = read_lock(store);
  EXPECT_TRUE(l.found);
  EXPECT_FALSE(l.stale) << "it may be a writer about to write it";
  EXPECT_THROW(StoreLock::acquire(store, "sweep", false), UsageError);
  const auto old = fs::file_time_type::clock::now() - std::chrono::seconds(static_cast<int>(kStaleSeconds) + 10);
  fs::last_write_time(StoreLock::path_of(store), old);
  l = read_lock(store);
  EXPECT_TRUE(l.stale);
  const StoreLock taken = StoreLock::acquire(store, "sweep", false);
  EXPECT_EQ(read_lock(store).pid, ::getpid());
}

}  // namespace
}  // namespace llcb::store
