// Stable non-cryptographic hashes for identities that must not change between runs, machines or
// versions: job ids, config hashes, derived seeds.
//   fnv1a64(text)   FNV-1a, 64 bits, over the bytes of text.
//   fnv1a64_bytes(h, data, n)  continues an FNV-1a hash h (start: kFnv1a64Offset) over n bytes.
//   splitmix64(x)   the SplitMix64 finaliser (Steele, Lea & Flood 2014), a bijection on 64 bits.
//   hex64(x)        16 lower-case hex digits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llcb {

constexpr std::uint64_t kFnv1a64Offset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnv1a64Prime = 0x100000001b3ULL;

constexpr std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t h = kFnv1a64Offset;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnv1a64Prime;
  }
  return h;
}

inline std::uint64_t fnv1a64_bytes(std::uint64_t h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= kFnv1a64Prime;
  }
  return h;
}

constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline std::string hex64(std::uint64_t x) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, x >>= 4) s[static_cast<std::size_t>(i)] = kDigits[x & 15];
  return s;
}

}  // namespace llcb
