#include "lib/dln/dataset.hpp"

#include "lib/core/error.hpp"

namespace llcb::dln {

Sampling parse_sampling(const std::string& text, const std::string& what) {
  if (text == "without_replacement") return Sampling::kWithoutReplacement;
  if (text == "with_replacement") return Sampling::kWithReplacement;
  throw UsageError(what + ": '" + text + "' is not without_replacement or with_replacement");
}

}  // namespace llcb::dln
