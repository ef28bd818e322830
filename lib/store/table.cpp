#include "lib/store/table.hpp"

#include <charconv>
#include <cmath>

#include "lib/core/error.hpp"

namespace llcb::store {

template <class T>
const std::vector<T>& Table::get(const std::string& name) const {
  const Column* c = find(name);
  if (!c || !std::holds_alternative<std::vector<T>>(c->data)) {
    throw InternalError("table has no column '" + name + "' of the expected type");
  }
  return std::get<std::vector<T>>(c->data);
}

template const std::vector<std::int64_t>& Table::get(const std::string&) const;
template const std::vector<double>& Table::get(const std::string&) const;
template const std::vector<std::string>& Table::get(const std::string&) const;

std::string to_text(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  const double d = std::get<double>(v);
  if (std::isnan(d)) return "nan";
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, end) : "nan";
}

}  // namespace llcb::store
