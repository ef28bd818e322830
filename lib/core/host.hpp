// This machine's host name, as the store's lock and journal record their writer ("unknown" when
// the system will not say).
#pragma once

#include <unistd.h>

#include <string>

namespace llcb {

inline std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace llcb
