#include "lib/store/vlen_strings.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "lib/core/error.hpp"
#include "lib/store/h5.hpp"

namespace llcb::store::h5 {
namespace {

// Little-endian fields of the HDF5 file format (8-byte addresses and lengths): a variable-length
// reference is 4 bytes of length, 8 of collection address, 4 of object index (address 0: an
// empty sequence); a global heap collection is "GCOL", version, 3 reserved, 8 bytes of size (the
// header included), then objects of 2 bytes of index, 2 of reference count, 4 reserved, 8 of size
// and the data padded to 8 bytes. Index 0 is free space, whose size counts its header too, and
// objects may follow it; a tail too short for a header is free space as well (as HDF5's own
// reader, H5HG__cache_heap_deserialize, walks a collection).
std::uint64_t le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

constexpr std::uint64_t kRef = 16;

}  // namespace

VlenStrings::VlenStrings(hid_t object) {
  const Handle file(H5Iget_file_id(object), H5Fclose, "finding the file of a column");
  unsigned intent = 0;
  check(H5Fget_intent(file.get(), &intent), "reading the file's intent");
  if (intent & H5F_ACC_RDWR) check(H5Fflush(file.get(), H5F_SCOPE_LOCAL), "flushing before a read");
  const Handle fapl(H5Fget_access_plist(file.get()), H5Pclose, "reading the file's access properties");
  if (H5Pget_driver(fapl.get()) != H5FD_SEC2) return;
  const Handle fcpl(H5Fget_create_plist(file.get()), H5Pclose, "reading the file's creation properties");
  std::size_t addr_bytes = 0, size_bytes = 0;
  hsize_t userblock = 0;
  check(H5Pget_sizes(fcpl.get(), &addr_bytes, &size_bytes), "reading the file's address size");
  check(H5Pget_userblock(fcpl.get(), &userblock), "reading the file's user block");
  if (addr_bytes != 8 || size_bytes != 8) return;
  void* handle = nullptr;
  check(H5Fget_vfd_handle(file.get(), H5P_DEFAULT, &handle), "reading the file's descriptor");
  struct stat st {};
  const int fd = *static_cast<int*>(handle);
  if (fstat(fd, &st) != 0) return;
  H5O_info_t info{};
  check(H5Oget_info2(object, &info, H5O_INFO_BASIC), "reading where a table lies");
  fileno_ = info.fileno;
  fd_ = fd;  // HDF5's own: the file HDF5 reads, whatever its path now names
  file_size_ = static_cast<std::uint64_t>(st.st_size);
  base_ = userblock;
}

bool VlenStrings::pread_all(std::uint64_t offset, void* out, std::uint64_t n) const {
  if (offset > file_size_ || n > file_size_ - offset) return false;
  auto* p = static_cast<char*>(out);
  while (n > 0) {
    const ssize_t got = pread(fd_, p, n, static_cast<off_t>(offset));
    if (got <= 0) return false;
    p += got;
    offset += static_cast<std::uint64_t>(got);
    n -= static_cast<std::uint64_t>(got);
  }
  return true;
}

const VlenStrings::Collection& VlenStrings::collection(std::uint64_t address) {
  if (const auto it = collections_.find(address); it != collections_.end()) return it->second;
  Collection c;
  unsigned char head[16];
  std::uint64_t size = 0;
  const bool sound = pread_all(base_ + address, head, sizeof head) && std::memcmp(head, "GCOL", 4) == 0 &&
                     head[4] == 1 && (size = le(head + 8, 8)) >= sizeof head &&
                     base_ + address <= file_size_ && size <= file_size_ - (base_ + address);
  // Collections never overlap in a sound file, so the ones a column holds are at most the file's
  // size together, whatever its references claim: one that overlaps a collection read before is
  // not sound. (The sound ones are disjoint, so only their neighbours by address can overlap.)
  const auto next = spans_.lower_bound(address);
  const bool overlaps = (next != spans_.end() && address + size > next->first) ||
                        (next != spans_.begin() && std::prev(next)->second > address);
  if (sound && !overlaps) {
    std::vector<unsigned char> body(size - sizeof head);
    if (pread_all(base_ + address + sizeof head, body.data(), body.size())) {
      c.body = std::move(body);
      spans_.emplace(address, address + size);
    }
  }
  for (std::size_t p = 0; p + 16 <= c.body.size();) {
    const std::uint64_t index = le(&c.body[p], 2);
    const std::uint64_t bytes = le(&c.body[p + 8], 8);
    const std::uint64_t need = index == 0 ? bytes : 16 + (bytes + 7) / 8 * 8;
    // Runs past the collection (or a free space smaller than its header): nothing after it is sound.
    if (need < 16 || need > c.body.size() - p) break;
    if (index > 0) c.objects.push_back({index, p + 16, bytes});
    p += need;
  }
  // By index; of two objects with one index the later wins, as in HDF5's own reader.
  std::stable_sort(c.objects.begin(), c.objects.end(), [](const Object& x, const Object& y) { return x.index < y.index; });
  return collections_.emplace(address, std::move(c)).first->second;
}

std::optional<std::vector<std::optional<std::string>>> VlenStrings::read(hid_t dataset, const std::string& what) {
  if (fd_ < 0) return std::nullopt;
  H5O_info_t info{};
  check(H5Oget_info2(dataset, &info, H5O_INFO_BASIC), "reading where " + what + " lies");
  if (info.fileno != fileno_) return std::nullopt;  // an external link into another file
  collections_.clear();  // one column's at a time: on a store of 1e5 jobs, all of them took 49 MB
  spans_.clear();
  const haddr_t offset = H5Dget_offset(dataset);
  if (offset == HADDR_UNDEF) return std::nullopt;
  const Handle space(H5Dget_space(dataset), H5Sclose, "reading the shape of " + what);
  hsize_t n = 0;
  if (H5Sget_simple_extent_dims(space.get(), &n, nullptr) != 1) return std::nullopt;
  // Allocated space of the column's size (HDF5 1.10 gives a file with a user block the user
  // block's end, not HADDR_UNDEF, as the offset of a column never written).
  H5D_space_status_t allocated = H5D_SPACE_STATUS_ERROR;
  check(H5Dget_space_status(dataset, &allocated), "reading the storage of " + what);
  if (allocated != H5D_SPACE_STATUS_ALLOCATED || H5Dget_storage_size(dataset) < n * kRef) return std::nullopt;
  const auto past_the_end = [&] {
    return RuntimeError("store column " + what + " is damaged (its strings lie past the end of the file)");
  };
  if (n > file_size_ / kRef) throw past_the_end();  // before allocating room for them
  std::vector<unsigned char> refs(static_cast<std::size_t>(n * kRef));
  if (!pread_all(offset, refs.data(), refs.size())) throw past_the_end();
  std::vector<std::optional<std::string>> out(static_cast<std::size_t>(n));
  for (std::size_t r = 0; r < out.size(); ++r) {
    const unsigned char* p = &refs[r * kRef];
    const std::uint64_t length = le(p, 4), address = le(p + 4, 8), index = le(p + 12, 4);
    if (address == 0) {  // an empty sequence, whatever its length says (as HDF5 reads it)
      out[r].emplace();
      continue;
    }
    const Collection& c = collection(address);
    // A sound reference names an object of exactly its length: HDF5 copies the object's size
    // into a buffer of the reference's.
    auto o = std::upper_bound(c.objects.begin(), c.objects.end(), index,
                              [](std::uint64_t i, const Object& x) { return i < x.index; });
    if (o == c.objects.begin() || (--o)->index != index || o->size != length) continue;
    const char* s = reinterpret_cast<const char*>(c.body.data() + o->at);
    out[r].emplace(s, ::strnlen(s, static_cast<std::size_t>(length)));  // HDF5 reads a C string
  }
  return out;
}

}  // namespace llcb::store::h5
