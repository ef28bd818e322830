#include "lib/store/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "lib/core/error.hpp"
#include "lib/core/hash.hpp"

namespace llcb::store {
namespace {

constexpr char kFileMagic[8] = {'L', 'L', 'C', 'B', 'J', 'R', 'N', '1'};
constexpr std::uint32_t kRecordMagic = 0x4a52434cu;
constexpr std::size_t kRecordHead = 4 + 1 + 8;  // magic, type, payload length
enum RecordType : std::uint8_t { kHeader = 1, kSession = 2, kJob = 3, kClean = 4 };

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

std::uint64_t checksum(std::uint8_t type, const std::vector<char>& payload) {
  return fnv1a64_bytes(fnv1a64_bytes(kFnv1a64Offset, &type, 1), payload.data(), payload.size());
}

// The record at `offset`, if it is whole and its checksum holds. Without `verify` only the header
// record's payload is read and no checksum is checked (a quick look: status, dirty or not).
struct Record {
  std::uint8_t type = 0;
  std::vector<char> payload;
  std::uint64_t end = 0;
};
bool read_record(int fd, std::uint64_t offset, Record& r, bool verify = true) {
  char head[kRecordHead];
  if (!read_at(fd, offset, head, kRecordHead)) return false;
  std::uint32_t magic = 0;
  std::uint64_t length = 0;
  std::memcpy(&magic, head, 4);
  std::memcpy(&r.type, head + 4, 1);
  std::memcpy(&length, head + 5, 8);
  if (magic != kRecordMagic || r.type < kHeader || r.type > kClean || length > (std::uint64_t{1} << 40)) {
    return false;
  }
  std::uint64_t sum = 0;
  if (!read_at(fd, offset + kRecordHead + length, reinterpret_cast<char*>(&sum), 8)) return false;
  r.end = offset + kRecordHead + length + 8;
  if (!verify && r.type != kHeader) {
    r.payload.clear();
    return true;
  }
  r.payload.resize(length);
  return read_at(fd, offset + kRecordHead, r.payload.data(), length) && sum == checksum(r.type, r.payload);
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

// Scans the records after the file magic: calls on_record for each whole one and returns the end
// of the last.
std::uint64_t scan(int fd, const std::function<void(const Record&)>& on_record, bool verify = true) {
  char magic[8];
  if (!read_at(fd, 0, magic, 8) || std::memcmp(magic, kFileMagic, 8) != 0) return 0;
  std::uint64_t offset = 8;
  Record r;
  while (read_record(fd, offset, r, verify)) {
    on_record(r);
    offset = r.end;
  }
  return offset;
}

}  // namespace

Journal::Journal(Journal&& o) noexcept { *this = std::move(o); }

Journal& Journal::operator=(Journal&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(o.path_);
    fd_ = o.fd_;
    header_ = std::move(o.header_);
    header_end_ = o.header_end_;
    end_ = o.end_;
    jobs_ = o.jobs_;
    dirty_ = o.dirty_;
    o.fd_ = -1;
  }
  return *this;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

Journal Journal::open(const std::string& store_path, const StoreHeader& header) {
  const std::string path = path_of(store_path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw RuntimeError("journal: cannot open '" + path + "': " + errno_text());
  Journal j(path, fd);
  bool first = true, has_header = false;
  const std::uint64_t end = scan(fd, [&](const Record& r) {
    if (first) {
      has_header = r.type == kHeader;
      if (has_header) {
        j.header_ = decode_header(r.payload);
        j.header_end_ = r.end;
      }
      first = false;
      return;
    }
    if (r.type == kSession) j.dirty_ = true;
    if (r.type == kClean) j.dirty_ = false;
    j.jobs_ += r.type == kJob;
  });
  if (!has_header) {
    // New, or cut short before its header was whole: nothing can follow, so start it afresh.
    if (::ftruncate(fd, 0) != 0) throw RuntimeError("journal: cannot reset '" + path + "': " + errno_text());
    j.dirty_ = false;
    j.jobs_ = 0;
    j.end_ = 0;
    std::vector<char> magic(kFileMagic, kFileMagic + 8);
    if (::pwrite(fd, magic.data(), magic.size(), 0) != 8) {
      throw RuntimeError("journal: cannot write '" + path + "': " + errno_text());
    }
    j.end_ = 8;
    ByteWriter w;
    for (const std::string* s : {&header.config_text, &header.config_canonical, &header.config_hash,
                                 &header.seed_recipe}) {
      w.put_string(*s);
    }
    j.append(kHeader, w.bytes());
    j.header_ = header;
    j.header_end_ = j.end_;
    return j;
  }
  j.end_ = end;
  if (::ftruncate(fd, static_cast<off_t>(end)) != 0) {  // drop a torn tail
    throw RuntimeError("journal: cannot truncate '" + path + "': " + errno_text());
  }
  return j;
}

void Journal::append(std::uint8_t type, const std::vector<char>& payload) {
  ByteWriter w;
  w.put(kRecordMagic);
  w.put(type);
  w.put<std::uint64_t>(payload.size());
  std::vector<char> record = w.take();
  record.insert(record.end(), payload.begin(), payload.end());
  const std::uint64_t sum = checksum(type, payload);
  const auto* s = reinterpret_cast<const char*>(&sum);
  record.insert(record.end(), s, s + 8);
  std::size_t written = 0;
  while (written < record.size()) {
    const ssize_t n = ::pwrite(fd_, record.data() + written, record.size() - written,
                               static_cast<off_t>(end_ + written));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? errno_text() : "no space written";
      (void)::ftruncate(fd_, static_cast<off_t>(end_));  // a torn record would be skipped anyway
      throw RuntimeError("journal: writing '" + path_ + "' failed: " + why);
    }
    written += static_cast<std::size_t>(n);
  }
  end_ += record.size();
}

void Journal::begin_session(const std::string& host, std::int64_t pid) {
  ByteWriter w;
  w.put_string(host);
  w.put(pid);
  w.put(static_cast<std::int64_t>(std::time(nullptr)));
  append(kSession, w.bytes());
  dirty_ = true;
}

void Journal::append_job(const JournalJob& job) {
  ByteWriter w;
  w.put(job.row);
  w.put_string(job.job_id);
  put_job_result(w, job.result);
  w.put_array(job.trace);
  append(kJob, w.bytes());
  ++jobs_;
  dirty_ = true;
}

void Journal::for_each_job(const std::function<void(const JournalJob&)>& f) const {
  Record r;
  for (std::uint64_t offset = header_end_; offset < end_ && read_record(fd_, offset, r); offset = r.end) {
    if (r.type == kJob) f(decode_job(r.payload));
  }
}

std::map<std::string, std::uint64_t> Journal::latest_offsets() const {
  std::map<std::string, std::uint64_t> latest;
  Record r;
  for (std::uint64_t offset = header_end_; offset < end_ && read_record(fd_, offset, r); offset = r.end) {
    if (r.type != kJob) continue;
    ByteReader rd(r.payload, "journal");
    rd.get<std::int64_t>();  // row
    latest[rd.get_string()] = offset;
  }
  return latest;
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
  c.found = true;
  bool first = true;
  scan(fd, [&](const Record& r) {
    if (first) {
      first = false;
      c.has_header = r.type == kHeader;
      if (c.has_header) c.header = decode_header(r.payload);
      return;
    }
    if (!c.has_header) return;
    if (r.type == kSession) c.dirty = true;
    if (r.type == kClean) c.dirty = false;
    c.jobs += r.type == kJob;
  }, false);
  ::close(fd);
  return c;
}

}  // namespace llcb::store
