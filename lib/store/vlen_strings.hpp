// The strings of a store column, read from the file on disk without letting HDF5 resolve them.
// Each string of a variable-length string column is a reference (length, global heap collection
// address, object index) into a global heap collection. A writer killed between writing a row and
// flushing the collection it added the row's string to can leave a reference to an object the
// collection on disk does not hold, and HDF5 1.10 then reads whatever its buffer held, or past it
// and crashes (seen in the kill-and-resume soak, tools/soak.py; h5py alike). A reader of a store
// that a sweep is writing can meet such a reference for a moment, between the writer's row and
// its flush, and even after checking it first, HDF5 reading the column again would see the file
// as it is then. VlenStrings reads the references once and decodes each string from the
// collection it names, as the file holds them (through HDF5's own file descriptor), so that a
// reader reports a damaged store, or a repair salvages the rows that resolve, instead of crashing.
// Private to lib/store.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace llcb::store::h5 {

// One per read of a table; it keeps the collections of the column it last read.
class VlenStrings {
 public:
  // file: any object of the file. Flushes the file first when it is open for writing (so that
  // the file on disk holds what this process wrote). A file whose driver is not the default
  // (sec2) or whose addresses and lengths are not 8 bytes cannot be read this way (read() gives
  // nullopt for every column).
  explicit VlenStrings(hid_t file);

  // Each row of `dataset` (one-dimensional, variable-length strings): its string, as HDF5 would
  // read it (up to a first NUL byte; "" for an empty or null reference), or nullopt when its
  // reference does not resolve to an object of exactly its length. nullopt for the whole column
  // when it cannot be read this way (the file above; a dataset whose raw data is not one
  // allocated run of the file: chunked, compact, external, never written; a dataset in another
  // file, through an external link); the caller then reads it through HDF5, unchecked. Every
  // string column llcbench writes is one run of its own file.
  // RuntimeError naming `what` when the references themselves lie past the end of the file.
  std::optional<std::vector<std::optional<std::string>>> read(hid_t dataset, const std::string& what);

 private:
  struct Object {
    std::uint64_t index, at, size;  // at: where its data starts in the body
  };
  struct Collection {
    std::vector<unsigned char> body;  // the collection after its 16-byte header
    std::vector<Object> objects;      // sorted by index
  };
  bool pread_all(std::uint64_t offset, void* out, std::uint64_t n) const;
  const Collection& collection(std::uint64_t address);
  int fd_ = -1;
  unsigned long fileno_ = 0;  // HDF5's number of the file fd_ is
  std::uint64_t file_size_ = 0, base_ = 0;
  std::map<std::uint64_t, Collection> collections_;  // of the current column, by address
  std::map<std::uint64_t, std::uint64_t> spans_;     // the sound ones' [address, end) in the file
};

}  // namespace llcb::store::h5
