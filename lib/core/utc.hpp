// UTC timestamps for stores, locks and file names: "2026-12-02T18:11:30Z" (ISO 8601) and
// "20261202T181130Z" (compact, safe in a file name).
#pragma once

#include <unistd.h>

#include <ctime>
#include <string>

namespace llcb {

inline std::string utc_format(std::time_t t, const char* format) {
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

inline std::string utc_iso(std::time_t t = std::time(nullptr)) { return utc_format(t, "%Y-%m-%dT%H:%M:%SZ"); }
inline std::string utc_compact(std::time_t t = std::time(nullptr)) { return utc_format(t, "%Y%m%dT%H%M%SZ"); }

// `prefix` + the compact time now, with "-2", "-3", ... added until no file has that name: where
// a file set aside goes without replacing one set aside earlier in the same second.
inline std::string unused_timestamped_path(const std::string& prefix) {
  const std::string base = prefix + utc_compact();
  std::string path = base;
  for (int n = 2; ::access(path.c_str(), F_OK) == 0; ++n) path = base + "-" + std::to_string(n);
  return path;
}

}  // namespace llcb
