// A thin RAII layer over the HDF5 C API, private to lib/store. Every failing call throws
// RuntimeError (HDF5's own error printing is switched off); handles close themselves.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lib/store/table.hpp"

namespace llcb::store::h5 {

class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close, const std::string& what);  // throws if id < 0
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  void reset();
  // Gives up ownership without closing (the caller closes and checks the result).
  hid_t release() {
    const hid_t id = id_;
    id_ = -1;
    return id;
  }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

void silence_errors();
void check(herr_t status, const std::string& what);

// File access: file locking off, so that readers can open a store a sweep is writing.
Handle file_access();
Handle create_file(const std::string& path);              // fails if the file exists
Handle open_file(const std::string& path, bool writable);
Handle open_group(hid_t parent, const std::string& name);
Handle create_group(hid_t parent, const std::string& name);
bool exists(hid_t parent, const std::string& path);
void remove(hid_t parent, const std::string& name);

void write_attr(hid_t obj, const std::string& name, const std::string& value);
void write_attr(hid_t obj, const std::string& name, std::int64_t value);
std::string read_string_attr(hid_t obj, const std::string& name);
bool has_attr(hid_t obj, const std::string& name);

// Columns: 1-D datasets of int64, double or UTF-8 variable-length strings.
void create_table(hid_t parent, const std::string& group, const Table& table);
// A table (group of one-dimensional columns in the order of its "columns" attribute). A string
// column with a reference to a string the file does not hold (vlen_strings.hpp) is RuntimeError;
// with `salvage`, such cells read as store::kDanglingString (store.hpp) and the rest as stored (a repair copies the
// rows that still verify).
Table read_table(hid_t parent, const std::string& group, bool salvage = false);
void write_cell(hid_t group, const std::string& column, std::size_t row, const Value& v);

// A float32 3-D dataset n0 x n1 x n2, chunked one index of the first dimension at a time (at most
// 2^20 values a chunk), shuffled and deflated, NaN where never written.
void create_cube(hid_t parent, const std::string& name, std::size_t n0, std::size_t n1, std::size_t n2);
// Writes / reads the block [start, start + count) of a 3-D float dataset (row-major in memory).
void write_block(hid_t parent, const std::string& name, const std::size_t (&start)[3],
                 const std::size_t (&count)[3], const float* data);
std::vector<float> read_block(hid_t parent, const std::string& name, const std::size_t (&start)[3],
                              const std::size_t (&count)[3]);
// The dimensions of parent/name.
std::vector<std::size_t> dims(hid_t parent, const std::string& name);
// A 1-D int64 dimension scale named `name` holding `values`.
void create_scale(hid_t parent, const std::string& name, const std::vector<std::int64_t>& values);
// Attaches parent/scale to dimension `dim` of parent/dataset.
void attach_scale(hid_t parent, const std::string& dataset, const std::string& scale, unsigned dim);

}  // namespace llcb::store::h5
