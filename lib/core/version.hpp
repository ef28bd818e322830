// Version of llcbench and the git commit it was configured from ("unknown" outside a checkout).
// The commit is read when CMake configures the build; the store records both.
#pragma once

#include <string_view>

namespace llcb {

std::string_view version();
std::string_view git_commit();

}  // namespace llcb
