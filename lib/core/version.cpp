#include "lib/core/version.hpp"

#include "lib/core/version_config.hpp"

namespace llcb {

std::string_view version() { return LLCB_VERSION_STRING; }
std::string_view git_commit() { return LLCB_GIT_COMMIT; }

}  // namespace llcb
