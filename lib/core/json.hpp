// A minimal streaming JSON writer for machine-readable CLI output (run --json, truth --json, ...).
// Produces compact, valid JSON (RFC 8259): strings are escaped, non-finite doubles are written as
// null (JSON has no NaN), doubles use the shortest representation that round-trips.
// Usage: JsonWriter w; w.begin_object(); w.key("a"); w.value(1); w.end_object(); w.str().
// Not thread-safe; misuse (a value where a key is due) throws InternalError.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llcb {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(std::int64_t v);
  JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
  JsonWriter& value(double v);
  JsonWriter& value(bool v);
  JsonWriter& null();
  // A pre-formatted JSON number (for exact decimals such as a rational printed to 12 places).
  JsonWriter& raw_number(std::string_view digits);
  const std::string& str() const;

  template <class T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  template <class T>
  JsonWriter& array(std::string_view k, const std::vector<T>& values) {
    key(k);
    begin_array();
    for (const auto& v : values) value(v);
    return end_array();
  }

 private:
  struct Frame {
    bool is_object;
    bool empty;
    bool expect_value;  // objects: a key was written and its value is due
  };
  void before_value();
  std::string out_;
  std::vector<Frame> stack_;
};

std::string json_escape(std::string_view s);

}  // namespace llcb
