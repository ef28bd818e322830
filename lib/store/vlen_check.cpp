#include "lib/store/vlen_check.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <vector>

#include "lib/core/error.hpp"
#include "lib/store/h5.hpp"

namespace llcb::store::h5 {
namespace {

// Little-endian fields of the HDF5 file format (version 0-3 superblocks, 8-byte addresses and
// lengths): a variable-length reference is 4 bytes of length, 8 of collection address, 4 of object
// index; a global heap collection is "GCOL", version, 3 reserved, 8 bytes of size, then objects of
// 2 bytes of index, 2 of reference count, 4 reserved, 8 of size and the data padded to 8 bytes.
// Index 0 is free space, whose size counts its header too, and objects may follow it; a tail too
// short for a header is free space as well (as HDF5's own reader, H5HG__cache_heap_deserialize,
// walks a collection).
std::uint64_t le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// The object sizes of the collection at `address`, by index; empty when no collection is there.
std::map<std::uint64_t, std::uint64_t> collection(std::ifstream& file, std::uint64_t address, std::uint64_t file_size) {
  std::map<std::uint64_t, std::uint64_t> objects;
  unsigned char head[16];
  if (address > file_size || file_size - address < sizeof head) return objects;
  file.seekg(static_cast<std::streamoff>(address));
  if (!file.read(reinterpret_cast<char*>(head), sizeof head) || std::memcmp(head, "GCOL", 4) != 0) return objects;
  const std::uint64_t size = le(head + 8, 8);
  if (size < sizeof head || size > file_size - address) return objects;
  std::vector<unsigned char> body(size - sizeof head);
  if (!file.read(reinterpret_cast<char*>(body.data()), static_cast<std::streamsize>(body.size()))) return objects;
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

}  // namespace

void check_vlen_strings(hid_t dataset, const std::string& what) {
  const haddr_t offset = H5Dget_offset(dataset);
  if (offset == HADDR_UNDEF) return;
  const Handle file(H5Iget_file_id(dataset), H5Fclose, "finding the file of " + what);
  unsigned intent = 0;
  check(H5Fget_intent(file.get(), &intent), "reading the intent of the file of " + what);
  if (intent & H5F_ACC_RDWR) check(H5Fflush(file.get(), H5F_SCOPE_LOCAL), "flushing before reading " + what);
  const Handle fcpl(H5Fget_create_plist(file.get()), H5Pclose, "reading the file's creation properties");
  std::size_t addr_bytes = 0, size_bytes = 0;
  hsize_t userblock = 0;
  check(H5Pget_sizes(fcpl.get(), &addr_bytes, &size_bytes), "reading the file's address size");
  check(H5Pget_userblock(fcpl.get(), &userblock), "reading the file's user block");
  if (addr_bytes != 8 || size_bytes != 8) return;
  const Handle space(H5Dget_space(dataset), H5Sclose, "reading the shape of " + what);
  hsize_t n = 0;
  if (H5Sget_simple_extent_dims(space.get(), &n, nullptr) != 1 || n == 0) return;
  const ssize_t name_len = H5Fget_name(file.get(), nullptr, 0);
  if (name_len <= 0) return;
  std::string name(static_cast<std::size_t>(name_len), '\0');
  H5Fget_name(file.get(), name.data(), name.size() + 1);
  std::ifstream in(name, std::ios::binary);
  if (!in) return;  // HDF5 reads it; another process may have moved it
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  constexpr std::uint64_t kRef = 16;
  const std::string damaged = "store column " + what + " is damaged (a killed writer left row ";
  if (offset > file_size || (file_size - offset) / kRef < n) {
    throw RuntimeError("store column " + what + " is damaged (its strings lie past the end of the file)");
  }
  std::vector<unsigned char> refs(static_cast<std::size_t>(n * kRef));
  in.seekg(static_cast<std::streamoff>(offset));
  if (!in.read(reinterpret_cast<char*>(refs.data()), static_cast<std::streamsize>(refs.size()))) return;
  std::map<std::uint64_t, std::map<std::uint64_t, std::uint64_t>> collections;
  for (hsize_t r = 0; r < n; ++r) {
    const unsigned char* p = &refs[static_cast<std::size_t>(r * kRef)];
    const std::uint64_t length = le(p, 4), address = le(p + 4, 8), index = le(p + 12, 4);
    if (length == 0 && address == 0) continue;  // an empty (never written) string
    auto it = collections.find(address);
    if (it == collections.end()) it = collections.emplace(address, collection(in, address + userblock, file_size)).first;
    const auto object = it->second.find(index);
    if (object == it->second.end() || object->second < length) {
      throw RuntimeError(damaged + std::to_string(r) + " referring to a string the file does not hold)");
    }
  }
}

}  // namespace llcb::store::h5
