#include "lib/store/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>

#include "lib/core/error.hpp"
#include "lib/core/hash.hpp"
#include "lib/core/log.hpp"
#include "lib/core/utc.hpp"

namespace llcb::store {
namespace {

constexpr char kFileMagic[8] = {'L', 'L', 'C', 'B', 'J', 'R', 'N', '1'};
constexpr std::uint32_t kRecordMagic = 0x4a52434cu;
constexpr std::size_t kRecordHead = 4 + 1 + 8;  // magic, type, payload length
enum RecordType : std::uint8_t { kHeader = 1, kSession = 2, kJob = 3, kClean = 4, kCalibration = 5 };

std::string errno_text() { return std::strerror(errno); }

// Reads exactly n bytes at offset; false when the file ends first.
bool read_at(int fd, std::uint64_t offset, char* out, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, out, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    offset += static_cast<std::uint64_t>(got);
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

void write_at(int fd, std::uint64_t offset, const char* data, std::size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t put = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) {
      throw RuntimeError("journal: writing '" + path + "' failed: " + (put < 0 ? errno_text() : "nothing written"));
    }
    data += put;
    offset += static_cast<std::uint64_t>(put);
    n -= static_cast<std::size_t>(put);
  }
}

std::uint64_t file_size(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

std::uint64_t checksum(std::uint8_t type, const std::vector<char>& payload) {
  return fnv1a64_bytes(fnv1a64_bytes(kFnv1a64Offset, &type, 1), payload.data(), payload.size());
}

std::vector<char> encode_record(std::uint8_t type, const std::vector<char>& payload) {
  std::vector<char> record(kRecordHead + payload.size() + 8);
  const std::uint64_t length = payload.size(), sum = checksum(type, payload);
  std::memcpy(record.data(), &kRecordMagic, 4);
  std::memcpy(record.data() + 4, &type, 1);
  std::memcpy(record.data() + 5, &length, 8);
  if (!payload.empty()) std::memcpy(record.data() + kRecordHead, payload.data(), payload.size());
  std::memcpy(record.data() + kRecordHead + payload.size(), &sum, 8);
  return record;
}

struct Record {
  std::uint8_t type = 0;
  std::vector<char> payload;
  std::uint64_t offset = 0, end = 0;
};

// The record at `offset`, if it is whole and its checksum holds. Without `verify`, only the header
// record's payload is read and no checksum is checked (a quick look).
bool read_record(int fd, std::uint64_t offset, Record& r, bool verify = true) {
  char head[kRecordHead];
  if (!read_at(fd, offset, head, kRecordHead)) return false;
  std::uint32_t magic = 0;
  std::uint64_t length = 0;
  std::memcpy(&magic, head, 4);
  std::memcpy(&r.type, head + 4, 1);
  std::memcpy(&length, head + 5, 8);
  if (magic != kRecordMagic || r.type < kHeader || r.type > kCalibration || length > (std::uint64_t{1} << 40)) {
    return false;
  }
  std::uint64_t sum = 0;
  if (!read_at(fd, offset + kRecordHead + length, reinterpret_cast<char*>(&sum), 8)) return false;
  r.offset = offset;
  r.end = offset + kRecordHead + length + 8;
  if (!verify && r.type != kHeader) {
    r.payload.clear();
    return true;
  }
  r.payload.resize(length);
  return read_at(fd, offset + kRecordHead, r.payload.data(), length) && sum == checksum(r.type, r.payload);
}

std::vector<char> encode_header(const StoreHeader& h) {
  ByteWriter w;
  for (const std::string* s : {&h.config_text, &h.config_canonical, &h.config_hash, &h.seed_recipe}) w.put_string(*s);
  return w.take();
}

StoreHeader decode_header(const std::vector<char>& payload) {
  ByteReader rd(payload, "journal");
  StoreHeader h;
  h.config_text = rd.get_string();
  h.config_canonical = rd.get_string();
  h.config_hash = rd.get_string();
  h.seed_recipe = rd.get_string();
  return h;
}

JournalJob decode_job(const std::vector<char>& payload) {
  ByteReader rd(payload, "journal");
  JournalJob j;
  j.row = rd.get<std::int64_t>();
  j.job_id = rd.get_string();
  j.result = get_job_result(rd);
  j.trace = rd.get_array<float>();
  rd.done();
  return j;
}

JournalCalibration decode_calibration(const std::vector<char>& payload) {
  ByteReader rd(payload, "journal");
  JournalCalibration c;
  c.row = rd.get<std::int64_t>();
  c.unit_id = rd.get_string();
  c.record = get_calibration_record(rd);
  c.trace = rd.get_array<float>();
  rd.done();
  return c;
}

// Records written before sessions kept the rank count end after the time (ranks 0: unknown).
JournalSession decode_session(const std::vector<char>& payload) {
  ByteReader rd(payload, "journal");
  JournalSession s;
  s.host = rd.get_string();
  s.pid = rd.get<std::int64_t>();
  s.unix_time = rd.get<std::int64_t>();
  if (!rd.at_end()) {
    s.ranks = rd.get<std::int64_t>();
    s.what = rd.get_string();
  }
  rd.done();
  return s;
}

bool has_magic(int fd) {
  char magic[8];
  return read_at(fd, 0, magic, 8) && std::memcmp(magic, kFileMagic, 8) == 0;
}

// Every record after the file magic that verifies, in order. A record that does not verify ends
// the scan unless a later record verifies (found by looking for the record magic byte by byte):
// then `gap` is set, the bad bytes are skipped, and the scan goes on.
std::vector<Record> scan(int fd, bool& gap) {
  std::vector<Record> out;
  gap = false;
  const std::uint64_t size = file_size(fd);
  std::uint64_t offset = 8;
  Record r;
  while (offset < size) {
    if (read_record(fd, offset, r)) {
      out.push_back(r);
      offset = r.end;
      continue;
    }
    std::uint64_t next = offset + 1;
    for (; next + kRecordHead <= size; ++next) {
      if (read_record(fd, next, r)) break;
    }
    if (next + kRecordHead > size) break;  // nothing verifies after it: a torn tail
    gap = true;
    offset = next;
  }
  return out;
}

// Moves a journal aside under a name that says why, and logs it.
void set_aside(const std::string& path, const std::string& why, const std::string& suffix) {
  const std::string aside = unused_timestamped_path(path + "." + suffix + "-");
  if (::rename(path.c_str(), aside.c_str()) != 0) {
    throw RuntimeError("journal: cannot set '" + path + "' aside: " + errno_text());
  }
  log::warn("journal '{}' {}: set aside as '{}'", path, why, aside);
}

int open_fd(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw RuntimeError("journal: cannot open '" + path + "': " + errno_text());
  return fd;
}

}  // namespace

Journal::Journal(Journal&& o) noexcept { *this = std::move(o); }

Journal& Journal::operator=(Journal&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(o.path_);
    fd_ = o.fd_;
    header_ = std::move(o.header_);
    end_ = o.end_;
    jobs_ = o.jobs_;
    latest_ = std::move(o.latest_);
    calibrations_ = std::move(o.calibrations_);
    sessions_ = std::move(o.sessions_);
    dirty_ = o.dirty_;
    o.fd_ = -1;
  }
  return *this;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::start(const StoreHeader& header) {
  if (::ftruncate(fd_, 0) != 0) throw RuntimeError("journal: cannot start '" + path_ + "': " + errno_text());
  write_at(fd_, 0, kFileMagic, 8, path_);
  end_ = 8;
  append(kHeader, encode_header(header));
  header_ = header;
}

Journal Journal::create(const std::string& store_path, const StoreHeader& header) {
  const std::string path = path_of(store_path);
  if (::access(path.c_str(), F_OK) == 0) set_aside(path, "belongs to an earlier store of that name", "orphan");
  Journal j(path, open_fd(path));
  j.start(header);
  return j;
}

Journal Journal::open(const std::string& store_path, const StoreHeader& header) {
  const std::string path = path_of(store_path);
  Journal j(path, open_fd(path));
  if (file_size(j.fd_) == 0) {  // new
    j.start(header);
    return j;
  }
  bool gap = false;
  std::vector<Record> records = has_magic(j.fd_) ? scan(j.fd_, gap) : std::vector<Record>{};
  const bool headed = !records.empty() && records.front().type == kHeader;
  std::string trouble;
  if (!headed) {
    trouble = "has no readable header";
  } else if (decode_header(records.front().payload).config_hash != header.config_hash) {
    trouble = "is another store's (another config hash)";
  } else if (gap) {
    trouble = "has records that fail their checksum";
  }
  if (!trouble.empty()) {
    // Keep the file as it is; start a new journal with what verifies of it (nothing of another
    // store's), and count the store as not closed cleanly, so that the next writer checks it.
    ::close(j.fd_);
    j.fd_ = -1;
    set_aside(path, trouble, headed && trouble.find("another") == std::string::npos ? "damaged" : "orphan");
    Journal fresh(path, open_fd(path));
    fresh.start(header);
    if (trouble.rfind("has records", 0) == 0) {
      for (std::size_t i = 1; i < records.size(); ++i) {
        const Record& r = records[i];
        if (r.type == kJob) {
          const JournalJob job = decode_job(r.payload);
          fresh.append_job(job);
        } else if (r.type == kCalibration) {
          fresh.append_calibration(decode_calibration(r.payload));
        } else if (r.type == kSession) {
          fresh.append(kSession, r.payload);
          fresh.sessions_.push_back(decode_session(r.payload));
        }
      }
    }
    fresh.dirty_ = true;
    return fresh;
  }
  j.header_ = decode_header(records.front().payload);
  for (std::size_t i = 1; i < records.size(); ++i) {
    const Record& r = records[i];
    if (r.type == kSession) {
      j.dirty_ = true;
      j.sessions_.push_back(decode_session(r.payload));
    }
    if (r.type == kClean) j.dirty_ = false;
    if (r.type == kJob) {
      const JournalJob job = decode_job(r.payload);
      j.latest_[job.job_id] = {r.offset, job_checksum(job.result, job.trace)};
      ++j.jobs_;
    }
    if (r.type == kCalibration) j.calibrations_[decode_calibration(r.payload).unit_id] = r.offset;
  }
  j.end_ = records.back().end;
  if (::ftruncate(j.fd_, static_cast<off_t>(j.end_)) != 0) {  // drop a torn tail
    throw RuntimeError("journal: cannot truncate '" + path + "': " + errno_text());
  }
  return j;
}

void Journal::append(std::uint8_t type, const std::vector<char>& payload) {
  const std::vector<char> record = encode_record(type, payload);
  try {
    write_at(fd_, end_, record.data(), record.size(), path_);
  } catch (const Error&) {
    (void)::ftruncate(fd_, static_cast<off_t>(end_));  // a torn record would be cut off anyway
    throw;
  }
  end_ += record.size();
}

void Journal::begin_session(const std::string& what, const std::string& host, std::int64_t pid,
                            std::int64_t ranks) {
  const JournalSession s{host, pid, static_cast<std::int64_t>(std::time(nullptr)), ranks, what};
  ByteWriter w;
  w.put_string(s.host);
  w.put(s.pid);
  w.put(s.unix_time);
  w.put(s.ranks);
  w.put_string(s.what);
  append(kSession, w.bytes());
  sessions_.push_back(s);
  dirty_ = true;
}

void Journal::append_job(const JournalJob& job) {
  ByteWriter w;
  w.put(job.row);
  w.put_string(job.job_id);
  put_job_result(w, job.result);
  w.put_array(job.trace);
  const std::uint64_t offset = end_;
  append(kJob, w.bytes());
  latest_[job.job_id] = {offset, job_checksum(job.result, job.trace)};
  ++jobs_;
  dirty_ = true;
}

void Journal::append_calibration(const JournalCalibration& c) {
  ByteWriter w;
  w.put(c.row);
  w.put_string(c.unit_id);
  put_calibration_record(w, c.record);
  w.put_array(c.trace);
  const std::uint64_t offset = end_;
  append(kCalibration, w.bytes());
  calibrations_[c.unit_id] = offset;
  dirty_ = true;
}

JournalCalibration Journal::calibration_at(std::uint64_t offset) const {
  Record r;
  if (!read_record(fd_, offset, r) || r.type != kCalibration) {
    throw RuntimeError("journal: no calibration record at offset " + std::to_string(offset) + " of '" + path_ + "'");
  }
  return decode_calibration(r.payload);
}

JournalJob Journal::job_at(std::uint64_t offset) const {
  Record r;
  if (!read_record(fd_, offset, r) || r.type != kJob) {
    throw RuntimeError("journal: no job record at offset " + std::to_string(offset) + " of '" + path_ + "'");
  }
  return decode_job(r.payload);
}

void Journal::mark_clean() {
  append(kClean, {});
  dirty_ = false;
}

JournalContents read_journal(const std::string& store_path) {
  JournalContents c;
  const int fd = ::open(Journal::path_of(store_path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return c;
  if (has_magic(fd)) {
    std::uint64_t offset = 8;
    Record r;
    for (bool first = true; read_record(fd, offset, r, false); offset = r.end, first = false) {
      if (first) {
        c.has_header = r.type == kHeader;
        if (!c.has_header) break;
        c.header = decode_header(r.payload);
        continue;
      }
      if (r.type == kSession) c.dirty = true;
      if (r.type == kClean) c.dirty = false;
      c.jobs += r.type == kJob;
    }
  }
  ::close(fd);
  return c;
}

std::string session_lines(const std::vector<JournalSession>& sessions) {
  constexpr std::size_t kShown = 200;  // an HDF5 attribute stays well under its 64 KiB
  std::string out;
  const std::size_t first = sessions.size() > kShown ? sessions.size() - kShown : 0;
  if (first > 0) out = std::to_string(first) + " earlier sessions not listed\n";
  for (std::size_t i = first; i < sessions.size(); ++i) {
    const JournalSession& s = sessions[i];
    out += utc_iso(static_cast<std::time_t>(s.unix_time)) + (s.what.empty() ? "" : " " + s.what) +
           " ranks=" + (s.ranks > 0 ? std::to_string(s.ranks) : "?") + " host=" + s.host +
           " pid=" + std::to_string(s.pid) + "\n";
  }
  return out;
}

}  // namespace llcb::store
