#include "mpi/protocol.hpp"

#include <cstring>

#include "lib/core/bytes.hpp"
#include "lib/core/error.hpp"

namespace llcb::mpi {

std::vector<char> encode(const Message& m) {
  ByteWriter w;
  w.put(kMagic);
  w.put(kProtocolVersion);
  w.put(static_cast<std::uint8_t>(m.type));
  switch (m.type) {
    case MsgType::kRequest:
      w.put_string(m.host);
      w.put_string(m.backend);
      break;
    case MsgType::kJob:
      w.put(m.job);
      w.put_array(m.group);
      w.put_array(m.bundle);
      w.put(m.calibration);
      w.put_array(m.steps);
      break;
    case MsgType::kCalibrated:
      w.put(m.job);
      store::put_calibration_record(w, m.calibration_record);
      w.put_array(m.floats);
      break;
    case MsgType::kInterrupted:
      w.put(m.job);
      break;
    case MsgType::kChunk:
      w.put(m.job);
      w.put(m.chain);
      w.put(m.first_step);
      w.put_array(m.floats);
      break;
    case MsgType::kResult:
      w.put(m.job);
      store::put_job_result(w, m.result);
      w.put_array(m.floats);
      break;
    case MsgType::kStop:
    case MsgType::kHeartbeat:
      break;
  }
  return w.take();
}

Message decode(const std::vector<char>& bytes) {
  ByteReader rd(bytes, "protocol");
  if (rd.get<std::uint32_t>() != kMagic) throw RuntimeError("protocol: not an llcbench message");
  const auto version = rd.get<std::uint16_t>();
  if (version != kProtocolVersion) {
    throw RuntimeError("protocol: version " + std::to_string(version) + " received, " +
                       std::to_string(kProtocolVersion) + " spoken here (mixed llcbench builds?)");
  }
  Message m;
  const auto type = rd.get<std::uint8_t>();
  switch (type) {
    case 1: m.type = MsgType::kRequest; m.host = rd.get_string(); m.backend = rd.get_string(); break;
    case 2:
      m.type = MsgType::kJob;
      m.job = rd.get<std::int64_t>();
      m.group = rd.get_array<std::int32_t>();
      m.bundle = rd.get_array<std::int64_t>();
      m.calibration = rd.get<std::int64_t>();
      m.steps = rd.get_array<double>();
      break;
    case 8:
      m.type = MsgType::kCalibrated;
      m.job = rd.get<std::int64_t>();
      m.calibration_record = store::get_calibration_record(rd);
      m.floats = rd.get_array<float>();
      break;
    case 3: m.type = MsgType::kStop; break;
    case 4:
      m.type = MsgType::kChunk;
      m.job = rd.get<std::int64_t>();
      m.chain = rd.get<std::int64_t>();
      m.first_step = rd.get<std::int64_t>();
      m.floats = rd.get_array<float>();
      break;
    case 5:
      m.type = MsgType::kResult;
      m.job = rd.get<std::int64_t>();
      m.result = store::get_job_result(rd);
      m.floats = rd.get_array<float>();
      break;
    case 6: m.type = MsgType::kInterrupted; m.job = rd.get<std::int64_t>(); break;
    case 7: m.type = MsgType::kHeartbeat; break;
    default: throw RuntimeError("protocol: unknown message type " + std::to_string(type));
  }
  rd.done();
  return m;
}

}  // namespace llcb::mpi
