// UTC timestamps for stores, locks and file names: "2026-12-02T18:11:30Z" (ISO 8601) and
// "20261202T181130Z" (compact, safe in a file name).
#pragma once

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

}  // namespace llcb
