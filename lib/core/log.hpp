// Logging facade over spdlog: the rest of llcbench logs through these functions only, so the
// sink, format and level are decided in one place (apps set the level from --log-level).
// Logs go to stderr; machine-readable results go to stdout and are never interleaved with logs.
// Thread-safe (spdlog's multi-threaded stderr sink).
#pragma once

#include <fmt/format.h>

#include <string_view>
#include <utility>

namespace llcb::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

void set_level(Level level);
Level level();
// Parses trace|debug|info|warn|error|off; throws UsageError otherwise.
Level parse_level(std::string_view name);
void write(Level level, std::string_view message);

inline bool enabled(Level l) { return l >= level(); }

template <class... A>
void debug(fmt::format_string<A...> f, A&&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, fmt::format(f, std::forward<A>(args)...));
}
template <class... A>
void info(fmt::format_string<A...> f, A&&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, fmt::format(f, std::forward<A>(args)...));
}
template <class... A>
void warn(fmt::format_string<A...> f, A&&... args) {
  if (enabled(Level::kWarn)) write(Level::kWarn, fmt::format(f, std::forward<A>(args)...));
}
template <class... A>
void error(fmt::format_string<A...> f, A&&... args) {
  if (enabled(Level::kError)) write(Level::kError, fmt::format(f, std::forward<A>(args)...));
}

}  // namespace llcb::log
