// A column table: the in-memory form of the store's /problems, /jobs and /summary groups (one
// 1-D dataset per column, all of one length). No HDF5 here: the reducer and the CLI use it too.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace llcb::store {

using Value = std::variant<std::int64_t, double, std::string>;

struct Column {
  std::string name;
  std::variant<std::vector<std::int64_t>, std::vector<double>, std::vector<std::string>> data;

  std::size_t size() const {
    return std::visit([](const auto& v) { return v.size(); }, data);
  }
  Value at(std::size_t row) const {
    return std::visit([row](const auto& v) { return Value(v[row]); }, data);
  }
};

struct Table {
  std::vector<Column> columns;

  std::size_t rows() const { return columns.empty() ? 0 : columns.front().size(); }
  const Column* find(const std::string& name) const {
    for (const auto& c : columns) {
      if (c.name == name) return &c;
    }
    return nullptr;
  }
  template <class T>
  const std::vector<T>& get(const std::string& name) const;  // throws InternalError if absent
};

// Value as text: integers in decimal, doubles with %.17g (shortest round trip where it matters),
// NaN as "nan", strings as they are.
std::string to_text(const Value& v);

}  // namespace llcb::store
