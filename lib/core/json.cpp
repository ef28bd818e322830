#include "lib/core/json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "lib/core/error.hpp"

namespace llcb {

std::string json_escape(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

void JsonWriter::before_value() {
  if (stack_.empty()) {
    if (!out_.empty()) throw InternalError("json: more than one top-level value");
    return;
  }
  Frame& f = stack_.back();
  if (f.is_object) {
    if (!f.expect_value) throw InternalError("json: value without a key inside an object");
    f.expect_value = false;
  } else {
    if (!f.empty) out_ += ',';
  }
  f.empty = false;
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_ += '{';
  stack_.push_back({true, true, false});
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  if (stack_.empty() || !stack_.back().is_object || stack_.back().expect_value) {
    throw InternalError("json: unbalanced end_object");
  }
  stack_.pop_back();
  out_ += '}';
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_ += '[';
  stack_.push_back({false, true, false});
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  if (stack_.empty() || stack_.back().is_object) throw InternalError("json: unbalanced end_array");
  stack_.pop_back();
  out_ += ']';
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
  if (stack_.empty() || !stack_.back().is_object || stack_.back().expect_value) {
    throw InternalError("json: key outside an object");
  }
  Frame& f = stack_.back();
  if (!f.empty) out_ += ',';
  out_ += json_escape(k);
  out_ += ':';
  f.expect_value = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  before_value();
  out_ += json_escape(s);
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}

JsonWriter& JsonWriter::value(double v) {
  if (!std::isfinite(v)) return null();
  before_value();
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) throw InternalError("json: cannot format a double");
  out_.append(buf, end);
  return *this;
}

JsonWriter& JsonWriter::value(bool v) {
  before_value();
  out_ += v ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::raw_number(std::string_view digits) {
  before_value();
  out_ += digits;
  return *this;
}

const std::string& JsonWriter::str() const {
  if (!stack_.empty()) throw InternalError("json: document not closed");
  return out_;
}

}  // namespace llcb
