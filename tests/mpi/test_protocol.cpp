// The message protocol round-trips every message type and refuses damaged messages (no MPI).
#include <gtest/gtest.h>

#include <cmath>

#include "lib/core/error.hpp"
#include "mpi/protocol.hpp"

namespace llcb::mpi {
namespace {

TEST(Protocol, EveryMessageTypeRoundTrips) {
  Message req{MsgType::kRequest};
  req.host = "node-7";
  req.backend = "cpu";
  Message r = decode(encode(req));
  EXPECT_EQ(r.type, MsgType::kRequest);
  EXPECT_EQ(r.host, "node-7");
  EXPECT_EQ(r.backend, "cpu");

  Message job{MsgType::kJob};
  job.job = 123456789012LL;
  EXPECT_EQ(decode(encode(job)).job, 123456789012LL);
  EXPECT_TRUE(decode(encode(job)).group.empty());
  job.group = {3, 1, 4};  // a chain group, member 0 first
  r = decode(encode(job));
  EXPECT_EQ(r.job, 123456789012LL);
  EXPECT_EQ(r.group, (std::vector<std::int32_t>{3, 1, 4}));
  EXPECT_TRUE(r.bundle.empty());
  job.group.clear();
  job.bundle = {7, 9};  // a bundle: two more jobs of the same problem and sampler
  r = decode(encode(job));
  EXPECT_TRUE(r.group.empty());
  EXPECT_EQ(r.bundle, (std::vector<std::int64_t>{7, 9}));
  EXPECT_EQ(r.calibration, -1);
  job.steps = {1e-5, NAN, 3e-7};  // a calibrated job's step size comes with it (NaN: none found)
  r = decode(encode(job));
  ASSERT_EQ(r.steps.size(), 3u);
  EXPECT_EQ(r.steps[0], 1e-5);
  EXPECT_TRUE(std::isnan(r.steps[1]));
  EXPECT_EQ(r.steps[2], 3e-7);
  Message calibrate{MsgType::kJob};
  calibrate.calibration = 5;  // run calibration unit 5 instead of a job
  EXPECT_EQ(decode(encode(calibrate)).calibration, 5);

  Message calibrated{MsgType::kCalibrated};
  calibrated.job = 5;
  calibrated.calibration_record.status = "done";
  calibrated.calibration_record.found = 1;
  calibrated.calibration_record.step_size = 1e-6;
  calibrated.calibration_record.accepted_low = 1e-7;
  calibrated.calibration_record.accepted_high = NAN;
  calibrated.calibration_record.why = "the middle step size";
  calibrated.calibration_record.detail = "{\"grid\":[]}";
  calibrated.calibration_record.backend = "cpu";
  calibrated.floats = {0.5f, NAN};
  r = decode(encode(calibrated));
  EXPECT_EQ(r.type, MsgType::kCalibrated);
  EXPECT_EQ(r.job, 5);
  EXPECT_EQ(r.calibration_record.status, "done");
  EXPECT_EQ(r.calibration_record.found, 1);
  EXPECT_EQ(r.calibration_record.step_size, 1e-6);
  EXPECT_EQ(r.calibration_record.accepted_low, 1e-7);
  EXPECT_TRUE(std::isnan(r.calibration_record.accepted_high));
  EXPECT_EQ(r.calibration_record.why, "the middle step size");
  EXPECT_EQ(r.calibration_record.detail, "{\"grid\":[]}");
  EXPECT_EQ(r.calibration_record.backend, "cpu");
  ASSERT_EQ(r.floats.size(), 2u);
  EXPECT_TRUE(std::isnan(r.floats[1]));

  Message chunk{MsgType::kChunk};
  chunk.job = 3;
  chunk.chain = 1;
  chunk.first_step = 5000;
  chunk.floats = {1.5f, NAN, -2.0f};
  r = decode(encode(chunk));
  EXPECT_EQ(r.chain, 1);
  EXPECT_EQ(r.first_step, 5000);
  ASSERT_EQ(r.floats.size(), 3u);
  EXPECT_EQ(r.floats[0], 1.5f);
  EXPECT_TRUE(std::isnan(r.floats[1]));

  Message res{MsgType::kResult};
  res.job = 9;
  res.result.status = "done";
  res.result.lambda_hat = 16.25;
  res.result.rel_error = NAN;
  res.result.diverged_chains = 2;
  res.result.divergence_step = 77;
  res.result.divergence_reason = "loss_above_bound";
  res.result.message = "x,y\n\"z\"";
  res.result.precision = "tf32";
  res.result.raw_estimate = 1e9;
  res.result.estimate_se = 0.5;
  res.floats = {0.25f};
  r = decode(encode(res));
  EXPECT_EQ(r.result.status, "done");
  EXPECT_EQ(r.result.lambda_hat, 16.25);
  EXPECT_TRUE(std::isnan(r.result.rel_error));
  EXPECT_EQ(r.result.diverged_chains, 2);
  EXPECT_EQ(r.result.divergence_step, 77);
  EXPECT_EQ(r.result.divergence_reason, "loss_above_bound");
  EXPECT_EQ(r.result.message, "x,y\n\"z\"");
  EXPECT_EQ(r.result.precision, "tf32");
  EXPECT_EQ(r.result.raw_estimate, 1e9);
  EXPECT_EQ(r.result.estimate_se, 0.5);
  EXPECT_EQ(r.floats, std::vector<float>{0.25f});

  for (MsgType t : {MsgType::kStop, MsgType::kHeartbeat, MsgType::kInterrupted}) {
    Message m{t};
    m.job = 4;
    EXPECT_EQ(decode(encode(m)).type, t);
  }
}

TEST(Protocol, DamagedMessagesAreRefused) {
  Message res{MsgType::kResult};
  res.floats = {1, 2, 3};
  std::vector<char> bytes = encode(res);
  std::vector<char> truncated(bytes.begin(), bytes.end() - 2);
  EXPECT_THROW(decode(truncated), RuntimeError);
  std::vector<char> trailing = bytes;
  trailing.push_back(0);
  EXPECT_THROW(decode(trailing), RuntimeError);
  std::vector<char> magic = bytes;
  magic[0] ^= 1;
  EXPECT_THROW(decode(magic), RuntimeError);
  std::vector<char> version = bytes;
  version[4] = 99;
  try {
    decode(version);
    FAIL();
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("version 99"), std::string::npos);
  }
  std::vector<char> type = bytes;
  type[6] = 42;
  EXPECT_THROW(decode(type), RuntimeError);
}

}  // namespace
}  // namespace llcb::mpi
