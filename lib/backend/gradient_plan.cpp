#include "lib/backend/gradient_plan.hpp"

#include "lib/core/error.hpp"

namespace llcb::backend {

bool parse_gradient(const std::string& text, const std::string& what) {
  if (text == "narrowest") return true;
  if (text == "layered") return false;
  throw UsageError(what + " is '" + text + "', expected narrowest or layered");
}

const char* gradient_name(bool through_narrowest) { return through_narrowest ? "narrowest" : "layered"; }

bool parse_batch_sums(const std::string& text, const std::string& what) {
  if (text == "halves") return true;
  if (text == "whole") return false;
  throw UsageError(what + " is '" + text + "', expected halves or whole");
}

const char* batch_sums_name(bool halves) { return halves ? "halves" : "whole"; }

double gradient_flops(const std::vector<std::int64_t>& h, std::int64_t batch, std::int64_t cut) {
  const auto layers = static_cast<std::int64_t>(h.size()) - 1;
  const double b = static_cast<double>(batch);
  const auto size = [&](std::int64_t s) { return static_cast<double>(h[s]) * static_cast<double>(h[s + 1]); };
  double f = 0;
  if (cut < 0) {
    for (std::int64_t s = 0; s < layers; ++s) f += (s > 0 ? 6 : 4) * b * size(s);
    return f;
  }
  const double r = static_cast<double>(h[cut]);
  // Below the cut (layers 0..k-1): products U_s, sums V_s and gradients U_{s+1}^T V_s, each
  // 2 r H_s H_{s+1}, for every layer but the one next to the cut (U = W there, G = V); the batch
  // goes in through Bp (2 B r H_1) and T = D^T X comes out (2 r B H_1).
  if (cut > 0) {
    for (std::int64_t s = 0; s + 1 < cut; ++s) f += 6 * r * size(s);
    f += 4 * b * r * static_cast<double>(h[0]);
  }
  // Above it (layers k..M-1): products Z_s, sums Y_s and gradients Y_s Z_s^T likewise; the batch
  // goes out through A (2 B r H_out), S = G^T (X Bp^T) (2 B r H_out) and, if there are layers
  // below, D = G A (2 B r H_out).
  if (cut < layers) {
    for (std::int64_t s = cut + 1; s < layers; ++s) f += 6 * r * size(s);
    f += (cut > 0 ? 6 : 4) * b * r * static_cast<double>(h.back());
  }
  return f;
}

std::int64_t gradient_cut(const std::vector<std::int64_t>& widths, std::int64_t batch, bool through_narrowest) {
  if (!through_narrowest) return -1;
  std::int64_t best = -1;
  double best_flops = gradient_flops(widths, batch, -1);
  for (std::int64_t k = 0; k < static_cast<std::int64_t>(widths.size()); ++k) {
    const double f = gradient_flops(widths, batch, k);
    // Equal flops (the two ends of a 2-layer network always tie): the narrower width.
    const bool narrower_tie = best >= 0 && f == best_flops && widths[k] < widths[best];
    if (f < best_flops || narrower_tie) {
      best = k;
      best_flops = f;
    }
  }
  return best;
}

}  // namespace llcb::backend
