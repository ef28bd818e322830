#include "lib/store/h5.hpp"
#include "lib/store/store.hpp"
#include "lib/store/vlen_strings.hpp"

#include <hdf5_hl.h>

#include <algorithm>
#include <limits>
#include <optional>

#include "lib/core/error.hpp"

namespace llcb::store::h5 {

Handle::Handle(hid_t id, Closer close, const std::string& what) : id_(id), close_(close) {
  if (id < 0) throw RuntimeError("HDF5: " + what + " failed");
}

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    close_ = o.close_;
    o.id_ = -1;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && close_) close_(id_);
  id_ = -1;
}

void silence_errors() {
  // No library clean-up at exit: a file that a failed write left open would be closed again
  // there, which crashes HDF5 1.10; the writer closes its files itself (Store::close), and a file
  // left open by a failure is repaired from the journal (docs/store.md). Must precede the first
  // call that initialises the library.
  static const bool no_atexit = [] {
    H5dont_atexit();
    return true;
  }();
  (void)no_atexit;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

void check(herr_t status, const std::string& what) {
  if (status < 0) throw RuntimeError("HDF5: " + what + " failed");
}

Handle file_access() {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "creating file access properties");
  check(H5Pset_file_locking(fapl.get(), false, true), "disabling file locking");
  return fapl;
}

Handle create_file(const std::string& path) {
  silence_errors();
  const Handle fapl = file_access();
  return Handle(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()), H5Fclose,
                "creating '" + path + "'");
}

Handle open_file(const std::string& path, bool writable) {
  silence_errors();
  const Handle fapl = file_access();
  return Handle(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get()),
                H5Fclose, "opening '" + path + "'");
}

Handle open_group(hid_t parent, const std::string& name) {
  return Handle(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose, "opening group " + name);
}

Handle create_group(hid_t parent, const std::string& name) {
  return Handle(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                "creating group " + name);
}

bool exists(hid_t parent, const std::string& path) {
  return H5Lexists(parent, path.c_str(), H5P_DEFAULT) > 0;
}

void remove(hid_t parent, const std::string& name) {
  check(H5Ldelete(parent, name.c_str(), H5P_DEFAULT), "deleting " + name);
}

namespace {

Handle string_type() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose, "copying the string type");
  check(H5Tset_size(t.get(), H5T_VARIABLE), "sizing the string type");
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), "setting UTF-8");
  return t;
}

Handle scalar_space() { return Handle(H5Screate(H5S_SCALAR), H5Sclose, "creating a scalar space"); }

Handle vector_space(std::size_t n) {
  const hsize_t dims[1] = {static_cast<hsize_t>(n)};
  return Handle(H5Screate_simple(1, dims, nullptr), H5Sclose, "creating a dataspace");
}

}  // namespace

void write_attr(hid_t obj, const std::string& name, const std::string& value) {
  if (has_attr(obj, name)) check(H5Adelete(obj, name.c_str()), "replacing attribute " + name);
  const Handle type = string_type();
  const Handle space = scalar_space();
  const Handle a(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                 H5Aclose, "creating attribute " + name);
  const char* p = value.c_str();
  check(H5Awrite(a.get(), type.get(), &p), "writing attribute " + name);
}

void write_attr(hid_t obj, const std::string& name, std::int64_t value) {
  if (has_attr(obj, name)) check(H5Adelete(obj, name.c_str()), "replacing attribute " + name);
  const Handle space = scalar_space();
  const Handle a(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                 H5Aclose, "creating attribute " + name);
  check(H5Awrite(a.get(), H5T_NATIVE_INT64, &value), "writing attribute " + name);
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::string read_string_attr(hid_t obj, const std::string& name) {
  const Handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "opening attribute " + name);
  const Handle type = string_type();
  char* p = nullptr;
  check(H5Aread(a.get(), type.get(), &p), "reading attribute " + name);
  std::string out = p ? p : "";
  H5free_memory(p);
  return out;
}

void create_table(hid_t parent, const std::string& group, const Table& table) {
  const Handle g = create_group(parent, group);
  const std::size_t n = table.rows();
  const Handle space = vector_space(n);
  for (const auto& col : table.columns) {
    if (col.size() != n) throw InternalError("table columns of different lengths");
    if (const auto* v = std::get_if<std::vector<std::int64_t>>(&col.data)) {
      const Handle d(H5Dcreate2(g.get(), col.name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT), H5Dclose, "creating column " + col.name);
      if (n) check(H5Dwrite(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v->data()), "writing " + col.name);
    } else if (const auto* v = std::get_if<std::vector<double>>(&col.data)) {
      const Handle d(H5Dcreate2(g.get(), col.name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT), H5Dclose, "creating column " + col.name);
      if (n) check(H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v->data()), "writing " + col.name);
    } else {
      const auto& s = std::get<std::vector<std::string>>(col.data);
      const Handle type = string_type();
      const Handle d(H5Dcreate2(g.get(), col.name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT), H5Dclose, "creating column " + col.name);
      std::vector<const char*> ptrs;
      for (const auto& x : s) ptrs.push_back(x.c_str());
      if (n) check(H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "writing " + col.name);
    }
  }
  // Column order for readers that want it (h5py lists members alphabetically).
  std::string order;
  for (const auto& col : table.columns) order += (order.empty() ? "" : ",") + col.name;
  write_attr(g.get(), "columns", order);
}

Table read_table(hid_t parent, const std::string& group, bool salvage) {
  const Handle g = open_group(parent, group);
  VlenStrings strings(g.get());
  const std::string order = read_string_attr(g.get(), "columns");
  Table t;
  std::size_t start = 0;
  while (start <= order.size() && !order.empty()) {
    const std::size_t comma = std::min(order.find(',', start), order.size());
    const std::string name = order.substr(start, comma - start);
    start = comma + 1;
    const Handle d(H5Dopen2(g.get(), name.c_str(), H5P_DEFAULT), H5Dclose, "opening column " + name);
    const Handle space(H5Dget_space(d.get()), H5Sclose, "reading the shape of " + name);
    hsize_t n = 0;
    if (H5Sget_simple_extent_dims(space.get(), &n, nullptr) != 1) {
      throw RuntimeError("store column " + group + "/" + name + " is not one-dimensional");
    }
    const Handle type(H5Dget_type(d.get()), H5Tclose, "reading the type of " + name);
    Column col{name, {}};
    switch (H5Tget_class(type.get())) {
      case H5T_INTEGER: {
        std::vector<std::int64_t> v(n);
        if (n) check(H5Dread(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "reading " + name);
        col.data = std::move(v);
        break;
      }
      case H5T_FLOAT: {
        std::vector<double> v(n);
        if (n) check(H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "reading " + name);
        col.data = std::move(v);
        break;
      }
      case H5T_STRING: {
        // HDF5 crashes on a reference to a string the file does not hold (vlen_strings.hpp), so
        // variable-length strings are decoded from the file here, HDF5 reading only the others.
        std::optional<std::vector<std::optional<std::string>>> cells;
        if (H5Tis_variable_str(type.get()) > 0) cells = strings.read(d.get(), group + "/" + name);
        std::vector<std::string> v(n);
        if (cells) {
          for (std::size_t r = 0; r < v.size(); ++r) {
            if (auto& cell = (*cells)[r]) {
              v[r] = std::move(*cell);
            } else if (salvage) {
              v[r] = store::kDanglingString;
            } else {
              throw RuntimeError("store column " + group + "/" + name + " is damaged (a killed writer left row " +
                                 std::to_string(r) + " referring to a string the file does not hold)");
            }
          }
        } else if (n) {
          const Handle st = string_type();
          std::vector<char*> p(n, nullptr);
          check(H5Dread(d.get(), st.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()), "reading " + name);
          for (std::size_t r = 0; r < v.size(); ++r) v[r] = p[r] ? p[r] : "";
          H5Dvlen_reclaim(st.get(), space.get(), H5P_DEFAULT, p.data());
        }
        col.data = std::move(v);
        break;
      }
      default:
        throw RuntimeError("store column " + group + "/" + name + " has an unsupported type");
    }
    if (!t.columns.empty() && col.size() != t.rows()) {
      throw RuntimeError("store group " + group + " has columns of different lengths (corrupt store)");
    }
    t.columns.push_back(std::move(col));
  }
  return t;
}

void write_cell(hid_t group, const std::string& column, std::size_t row, const Value& v) {
  const Handle d(H5Dopen2(group, column.c_str(), H5P_DEFAULT), H5Dclose, "opening column " + column);
  const Handle file_space(H5Dget_space(d.get()), H5Sclose, "selecting in " + column);
  const hsize_t start[1] = {static_cast<hsize_t>(row)}, count[1] = {1};
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
        "selecting row of " + column);
  const Handle mem = vector_space(1);
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    check(H5Dwrite(d.get(), H5T_NATIVE_INT64, mem.get(), file_space.get(), H5P_DEFAULT, i), "writing " + column);
  } else if (const auto* x = std::get_if<double>(&v)) {
    check(H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, mem.get(), file_space.get(), H5P_DEFAULT, x), "writing " + column);
  } else {
    const Handle type = string_type();
    const char* p = std::get<std::string>(v).c_str();
    check(H5Dwrite(d.get(), type.get(), mem.get(), file_space.get(), H5P_DEFAULT, &p), "writing " + column);
  }
}

void create_cube(hid_t parent, const std::string& name, std::size_t n0, std::size_t n1, std::size_t n2) {
  const hsize_t d[3] = {n0, n1, n2};
  const Handle space(H5Screate_simple(3, d, nullptr), H5Sclose, "creating the space of " + name);
  const Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "creating dataset properties");
  if (n0 > 0 && n1 > 0 && n2 > 0) {
    const hsize_t rows = std::max<hsize_t>(1, std::min<hsize_t>(n1, (hsize_t{1} << 20) / n2));
    const hsize_t chunk[3] = {1, rows, n2};
    check(H5Pset_chunk(dcpl.get(), 3, chunk), "chunking " + name);
    check(H5Pset_shuffle(dcpl.get()), "shuffle filter");
    check(H5Pset_deflate(dcpl.get(), 4), "deflate filter");
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  check(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_FLOAT, &nan), "NaN fill value");
  const Handle ds(H5Dcreate2(parent, name.c_str(), H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, dcpl.get(),
                             H5P_DEFAULT), H5Dclose, "creating " + name);
}

namespace {

Handle select_block(hid_t dataset, const std::size_t (&start)[3], const std::size_t (&count)[3],
                    const std::string& name) {
  Handle space(H5Dget_space(dataset), H5Sclose, "selecting in " + name);
  const hsize_t s[3] = {start[0], start[1], start[2]}, c[3] = {count[0], count[1], count[2]};
  check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, s, nullptr, c, nullptr), "selecting a block of " + name);
  return space;
}

}  // namespace

void write_block(hid_t parent, const std::string& name, const std::size_t (&start)[3],
                 const std::size_t (&count)[3], const float* data) {
  if (count[0] * count[1] * count[2] == 0) return;
  const Handle d(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), H5Dclose, "opening " + name);
  const Handle space = select_block(d.get(), start, count, name);
  const Handle mem = vector_space(count[0] * count[1] * count[2]);
  check(H5Dwrite(d.get(), H5T_NATIVE_FLOAT, mem.get(), space.get(), H5P_DEFAULT, data), "writing " + name);
}

std::vector<float> read_block(hid_t parent, const std::string& name, const std::size_t (&start)[3],
                              const std::size_t (&count)[3]) {
  std::vector<float> out(count[0] * count[1] * count[2]);
  if (out.empty()) return out;
  const Handle d(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), H5Dclose, "opening " + name);
  const Handle space = select_block(d.get(), start, count, name);
  const Handle mem = vector_space(out.size());
  check(H5Dread(d.get(), H5T_NATIVE_FLOAT, mem.get(), space.get(), H5P_DEFAULT, out.data()), "reading " + name);
  return out;
}

std::vector<std::size_t> dims(hid_t parent, const std::string& name) {
  const Handle d(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), H5Dclose, "opening " + name);
  const Handle space(H5Dget_space(d.get()), H5Sclose, "reading the shape of " + name);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw RuntimeError("HDF5: reading the rank of " + name + " failed");
  std::vector<hsize_t> d_(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), d_.data(), nullptr);
  return std::vector<std::size_t>(d_.begin(), d_.end());
}

void create_scale(hid_t parent, const std::string& name, const std::vector<std::int64_t>& values) {
  const Handle space = vector_space(values.size());
  const Handle d(H5Dcreate2(parent, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT), H5Dclose, "creating scale " + name);
  if (!values.empty()) {
    check(H5Dwrite(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "writing " + name);
  }
  check(H5DSset_scale(d.get(), name.c_str()), "making " + name + " a dimension scale");
}

void attach_scale(hid_t parent, const std::string& dataset, const std::string& scale, unsigned dim) {
  const Handle d(H5Dopen2(parent, dataset.c_str(), H5P_DEFAULT), H5Dclose, "opening " + dataset);
  const Handle sc(H5Dopen2(parent, scale.c_str(), H5P_DEFAULT), H5Dclose, "opening " + scale);
  check(H5DSattach_scale(d.get(), sc.get(), dim), "attaching " + scale + " to " + dataset);
}

}  // namespace llcb::store::h5
