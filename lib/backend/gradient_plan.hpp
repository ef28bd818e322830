// How a step computes the loss and gradient of a deep linear network (chain.gradient;
// docs/performance.md, "Through the narrowest width").
//
// Layer by layer: the usual forward and backward passes, 2 B H_s H_{s+1} flops per layer for each
// of the forward, the weight gradient and (above the first layer) the input gradient.
//
// Through a cut: the network is linear, so the loss depends on W_M..W_1 only. At a width index k
// (0..M; r = widths[k], H_{k+1} in the 1-based numbering of benchmark.md), the step forms
// the products below the cut (Bp = W_k..W_1, r x H_1) and above it (A = W_M..W_{k+1},
// H_{M+1} x r), runs the batch through them only (X Bp^T, then (X Bp^T) A^T), and gets every
// layer's gradient from two r-wide sums over the batch, S = G^T (X Bp^T) and T = (G A)^T X,
// through prefix and suffix products that are all r wide. Each layer then costs at most
// 6 r H_s H_{s+1} instead of 6 B H_s H_{s+1}: at the narrowest width of a 100K problem (r = 50,
// B = 500) the loss and gradient are about 5x fewer flops. The two differ in rounding only.
//
// The cut is a function of the widths and the whole minibatch's size alone (never of a chain
// group's share of rows or a thread count), so every rank and backend takes the same path.
//
// Sums over the batch (chain.batch_sums; the CPU backend): the products that sum over the batch
// (the weight gradients layer by layer; through a cut, S and T) sum it whole, or in two halves,
// rows [0, h) and [h, B) with h = dln::batch_half(B) (256 for B = 500), added at the end
// (dln::gemm_batch_halves). In halves, each of two threads takes the rows of one half from the
// inputs to its partial sums, so that almost none of the batch's rows cross from core to core,
// only the r-wide (or, layer by layer, weight-sized) partial sums do. Another order of additions, so
// other bits: the two differ in rounding only. For a chain group member, B is its share of rows.
// The CUDA backend sums through cuBLAS either way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llcb::backend {

// "narrowest" -> true, "layered" -> false; UsageError naming `what` otherwise.
bool parse_gradient(const std::string& text, const std::string& what);
const char* gradient_name(bool through_narrowest);
// "halves" -> true, "whole" -> false (DataSpec::batch_halves); UsageError naming `what` otherwise.
bool parse_batch_sums(const std::string& text, const std::string& what);
const char* batch_sums_name(bool halves);

// The width index the step cuts at, or -1 for layer by layer: with `through_narrowest`, the cut k
// of fewest flops (of equal ones the narrower, then the first) where that is fewer than layer by
// layer; else -1. Every term of a cut's flops is proportional to its width, so this is the
// narrowest width but where an end of the network (whose cut skips the batch's way in or out)
// is nearly as narrow.
std::int64_t gradient_cut(const std::vector<std::int64_t>& widths, std::int64_t batch, bool through_narrowest);

// Flops of the loss and gradient of one step at batch size `batch` through cut k (-1: layer by
// layer), the targets excluded. Layer by layer: 2 B d (forward) + 2 B d (weight gradients) +
// 2 B (d - H_1 H_2) (input gradients).
double gradient_flops(const std::vector<std::int64_t>& widths, std::int64_t batch, std::int64_t cut);

}  // namespace llcb::backend
