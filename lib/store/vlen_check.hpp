// A check of a store column's variable-length strings against the file on disk, before HDF5 reads
// them. Each string of such a column is a reference (length, global heap collection address,
// object index) into a global heap collection. A writer killed between writing a row and flushing
// the collection it added the row's string to can leave a reference to an object the collection
// on disk does not hold, and HDF5 1.10 then reads whatever its buffer held, or past it and
// crashes (seen in the kill-and-resume soak, tools/soak.py; h5py alike). VlenCheck reads the
// references and the collections they name from the file itself (through HDF5's own file
// descriptor), so that a reader reports a damaged store, or a repair salvages the rows that
// resolve, instead of crashing. Private to lib/store.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace llcb::store::h5 {

// One per read of a table: the collections it has read, by address, are reused across columns.
class VlenCheck {
 public:
  // file: any object of the file. Flushes the file first when it is open for writing (so that
  // the file on disk holds what this process wrote). A file whose driver is not the default
  // (sec2) or whose addresses and lengths are not 8 bytes is not checked (dangling() is empty).
  explicit VlenCheck(hid_t file);

  // The rows of `dataset` (one-dimensional, variable-length strings) whose reference does not
  // resolve to an object of exactly its length; empty when all do, or when the dataset's raw data
  // has no single file offset (chunked, compact, never written). RuntimeError naming `what` when
  // the references themselves lie past the end of the file.
  std::vector<std::uint64_t> dangling(hid_t dataset, const std::string& what);

 private:
  bool read(std::uint64_t offset, void* out, std::uint64_t n) const;
  const std::map<std::uint64_t, std::uint64_t>& collection(std::uint64_t address);
  int fd_ = -1;
  std::uint64_t file_size_ = 0, base_ = 0;
  std::map<std::uint64_t, std::map<std::uint64_t, std::uint64_t>> collections_;  // address -> index -> size
};

}  // namespace llcb::store::h5
