// Little-endian byte encoding of fixed-size values, strings and arrays, for the MPI protocol and
// the store's journal: a value is its bytes (x86-64 and every platform llcbench targets are
// little-endian), a string or array is a u64 length then its bytes.
//
// ByteReader refuses to read past its input and names `what` (e.g. "protocol", "journal") in its
// RuntimeError. Neither class is thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "lib/core/error.hpp"

namespace llcb {

class ByteWriter {
 public:
  template <class T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    out_.insert(out_.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<std::uint64_t>(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }
  template <class T>
  void put_array(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    const auto* p = reinterpret_cast<const char*>(v.data());
    out_.insert(out_.end(), p, p + v.size() * sizeof(T));
  }
  const std::vector<char>& bytes() const { return out_; }
  std::vector<char> take() { return std::move(out_); }

 private:
  std::vector<char> out_;
};

class ByteReader {
 public:
  ByteReader(const char* data, std::size_t size, std::string what)
      : data_(data), size_(size), what_(std::move(what)) {}
  ByteReader(const std::vector<char>& in, std::string what) : ByteReader(in.data(), in.size(), std::move(what)) {}

  template <class T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string get_string() {
    const auto n = get<std::uint64_t>();
    need(n);
    std::string s(data_ + pos_, n);
    pos_ += n;
    return s;
  }
  template <class T>
  std::vector<T> get_array() {
    const auto n = get<std::uint64_t>();
    if (n > size_) throw RuntimeError(what_ + ": an array longer than its data");
    need(n * sizeof(T));
    std::vector<T> v(n);
    std::memcpy(v.data(), data_ + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return v;
  }
  bool at_end() const { return pos_ == size_; }
  // Throws unless every byte was read.
  void done() const {
    if (pos_ != size_) throw RuntimeError(what_ + ": trailing bytes");
  }

 private:
  void need(std::size_t n) const {
    if (n > size_ - pos_) throw RuntimeError(what_ + ": truncated data");
  }
  const char* data_;
  std::size_t size_;
  std::string what_;
  std::size_t pos_ = 0;
};

}  // namespace llcb
