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
Table read_table(hid_t parent, const std::string& group);
void write_cell(hid_t group, const std::string& column, std::size_t row, const Value& v);

// A float32 2-D dataset (rows x cols, row-major), chunked and compressed, with dimension labels.
// Empty `data` creates the dataset filled with NaN.
void write_matrix(hid_t parent, const std::string& name, const std::vector<float>& data,
                  std::size_t rows, std::size_t cols, const std::string& dim0, const std::string& dim1);
// Writes values into column `col`, rows [row0, row0 + n) of the 2-D float dataset parent/name.
void write_column_block(hid_t parent, const std::string& name, std::size_t row0, std::size_t col,
                        const std::vector<float>& values);
// Length of the 1-D dataset parent/name.
std::size_t dataset_length(hid_t parent, const std::string& name);
// A 1-D int64 dimension scale named `name` holding `values`.
void create_scale(hid_t parent, const std::string& name, const std::vector<std::int64_t>& values);
// Attaches parent/scale to dimension `dim` of parent/dataset.
void attach_scale(hid_t parent, const std::string& dataset, const std::string& scale, unsigned dim);
// Detaches it again when attached (before deleting the dataset, so no dangling reference stays).
void detach_scale(hid_t parent, const std::string& dataset, const std::string& scale, unsigned dim);
std::vector<float> read_matrix(hid_t parent, const std::string& name, std::size_t& rows, std::size_t& cols);

}  // namespace llcb::store::h5
