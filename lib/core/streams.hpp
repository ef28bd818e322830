// The seed recipe: every random number in llcbench is one Philox4x32-10 block addressed by
//
//   key     = the 64-bit seed it belongs to (problem seed or chain seed), low word first
//   counter = { index low 32 bits, index high 32 bits, sub-index, stream tag }
//
// so that any draw can be regenerated anywhere (any rank, CPU or GPU) from the seed, the stream,
// and its position, with no state carried between draws. Distinct stream tags make the streams of
// one seed disjoint. The table below is the authoritative list; the store records it verbatim.
//
// Stream      key            index               sub-index         use
// kArch       problem seed   0: depth, j+1: H_j  0                 architecture draws
// kRankCut    problem seed   layer s (0-based)   0                 rank-reduction coin and k
// kTeacher    problem seed   element pair e/2    layer s           Xavier-normal entries of W*_s
// kInput      problem seed   sample i            block of 4 coords inputs x_i ~ U[-10, 10]
// kTargetNoise problem seed  sample i            block of 4 coords target noise (sigma > 0)
// kEpochKeys  chain seed     epoch               0                 Feistel round keys (4 words)
// kBatch      chain seed     position t*B + b    0                 with-replacement sample index
// kLangevin   chain seed     step t              block of 4 params injected noise xi_t
#pragma once

#include <cstdint>

namespace llcb {

enum class Stream : std::uint32_t {
  kArch = 0x41524348u,         // "ARCH"
  kRankCut = 0x52414e4bu,      // "RANK"
  kTeacher = 0x54434852u,      // "TCHR"
  kInput = 0x58494e50u,        // "XINP"
  kTargetNoise = 0x594e4f49u,  // "YNOI"
  kEpochKeys = 0x45504f43u,    // "EPOC"
  kBatch = 0x42544348u,        // "BTCH"
  kLangevin = 0x4c414e47u,     // "LANG"
};

}  // namespace llcb
