// The versioned message protocol between rank 0 (scheduler) and the workers. Pure byte encoding,
// no MPI: messages travel as MPI_BYTE with one tag; the type is in the header.
//
// Every message: magic "LLCB" (u32), protocol version (u16), type (u8), then its fields in order,
// little-endian fixed-size integers and IEEE doubles/floats, strings and arrays as a u64 length
// then the bytes. A message with the wrong magic or version, an unknown type, or too few or too
// many bytes is refused with a RuntimeError naming what is wrong.
//
//   type       direction     fields
//   kRequest   worker -> 0   host (string), backend (string)        "give me work"
//   kJob       0 -> worker   job index (i64), group (i32 array: the world ranks of the job's chain
//                            group in member order; empty when the worker runs it alone), bundle
//                            (i64 array: more jobs of the same problem and sampler to run with it),
//                            calibration (i64: the calibration unit to run instead of jobs; -1
//                            none), steps (f64 array: the step sizes of the job and its bundle,
//                            which a calibrated job learns from its recorded calibration)
//   kStop      0 -> worker   (none)                                  no more work
//   kChunk     worker -> 0   job index, chain (i64), first step (i64), losses (f32 array)
//   kResult    worker -> 0   job index, JobResult fields, trace (f32 array)
//   kInterrupted worker -> 0 job index (-1: a calibration)         stopped by a signal
//   kHeartbeat worker -> 0   (none)
//   kCalibrated worker -> 0  calibration index (in job), CalibrationRecord, trace (f32 array)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/store/store.hpp"

namespace llcb::mpi {

constexpr std::uint32_t kMagic = 0x42434c4cu;  // "LLCB" little-endian
// 2: kJob carries the chain group; 3: the bundle; 4: results carry the GEMM precision;
// 5: results carry rel_error_lower (filled in by rank 0), raw_estimate and estimate_se;
// 6: calibrations (kJob's calibration and steps, kCalibrated)
constexpr std::uint16_t kProtocolVersion = 6;

enum class MsgType : std::uint8_t {
  kRequest = 1, kJob = 2, kStop = 3, kChunk = 4, kResult = 5, kInterrupted = 6, kHeartbeat = 7,
  kCalibrated = 8,
};

struct Message {
  explicit Message(MsgType t = MsgType::kHeartbeat) : type(t) {}
  MsgType type;
  std::int64_t job = -1;
  std::int64_t chain = 0, first_step = 0;
  std::string host, backend;
  std::vector<std::int32_t> group;  // kJob: chain group members (world ranks), member 0 first
  std::vector<std::int64_t> bundle; // kJob: the other jobs of the bundle
  std::int64_t calibration = -1;    // kJob: the calibration unit to run (-1: none)
  std::vector<double> steps;        // kJob: step sizes of the job, then of its bundle
  store::JobResult result;
  store::CalibrationRecord calibration_record;  // kCalibrated
  std::vector<float> floats;  // chunk losses or the job's trace
};

std::vector<char> encode(const Message& m);
Message decode(const std::vector<char>& bytes);

}  // namespace llcb::mpi
