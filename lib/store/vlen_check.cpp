#include "lib/store/vlen_check.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

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

VlenCheck::VlenCheck(hid_t object) {
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
  fd_ = fd;  // HDF5's own: the file HDF5 reads, whatever its path now names
  file_size_ = static_cast<std::uint64_t>(st.st_size);
  base_ = userblock;
}

bool VlenCheck::read(std::uint64_t offset, void* out, std::uint64_t n) const {
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

const std::map<std::uint64_t, std::uint64_t>& VlenCheck::collection(std::uint64_t address) {
  auto [it, fresh] = collections_.try_emplace(address);
  if (!fresh) return it->second;
  std::map<std::uint64_t, std::uint64_t>& objects = it->second;
  unsigned char head[16];
  if (!read(base_ + address, head, sizeof head) || std::memcmp(head, "GCOL", 4) != 0) return objects;
  const std::uint64_t size = le(head + 8, 8);
  if (size < sizeof head || size > file_size_) return objects;
  std::vector<unsigned char> body(size - sizeof head);
  if (!read(base_ + address + sizeof head, body.data(), body.size())) return objects;
  for (std::size_t p = 0; p + 16 <= body.size();) {
    const std::uint64_t index = le(&body[p], 2);
    const std::uint64_t bytes = le(&body[p + 8], 8);
    const std::uint64_t need = index == 0 ? bytes : 16 + (bytes + 7) / 8 * 8;
    // Runs past the collection (or a free space smaller than its header): nothing after it is sound.
    if (need < 16 || need > body.size() - p) break;
    if (index > 0) objects[index] = bytes;
    p += need;
  }
  return objects;
}

std::vector<std::uint64_t> VlenCheck::dangling(hid_t dataset, const std::string& what) {
  std::vector<std::uint64_t> bad;
  if (fd_ < 0) return bad;
  const haddr_t offset = H5Dget_offset(dataset);
  if (offset == HADDR_UNDEF) return bad;
  const Handle space(H5Dget_space(dataset), H5Sclose, "reading the shape of " + what);
  hsize_t n = 0;
  if (H5Sget_simple_extent_dims(space.get(), &n, nullptr) != 1 || n == 0) return bad;
  std::vector<unsigned char> refs(static_cast<std::size_t>(n * kRef));
  if (n > file_size_ / kRef || !read(offset, refs.data(), refs.size())) {
    throw RuntimeError("store column " + what + " is damaged (its strings lie past the end of the file)");
  }
  for (hsize_t r = 0; r < n; ++r) {
    const unsigned char* p = &refs[static_cast<std::size_t>(r * kRef)];
    const std::uint64_t length = le(p, 4), address = le(p + 4, 8), index = le(p + 12, 4);
    if (address == 0) continue;  // an empty sequence, whatever its length says (as HDF5 reads it)
    const auto& objects = collection(address);
    const auto object = objects.find(index);
    // A sound reference names an object of exactly its length: HDF5 copies the object's size
    // into a buffer of the reference's.
    if (object == objects.end() || object->second != length) bad.push_back(r);
  }
  return bad;
}

}  // namespace llcb::store::h5
