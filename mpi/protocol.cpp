#include "mpi/protocol.hpp"

#include <cstring>

#include "lib/core/error.hpp"

namespace llcb::mpi {
namespace {

class Writer {
 public:
  template <class T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    out_.insert(out_.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<std::uint64_t>(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }
  template <class T>
  void put_array(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    const auto* p = reinterpret_cast<const char*>(v.data());
    out_.insert(out_.end(), p, p + v.size() * sizeof(T));
  }
  std::vector<char> take() { return std::move(out_); }

 private:
  std::vector<char> out_;
};

class Reader {
 public:
  explicit Reader(const std::vector<char>& in) : in_(in) {}
  template <class T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string get_string() {
    const auto n = get<std::uint64_t>();
    need(n);
    std::string s(in_.data() + pos_, n);
    pos_ += n;
    return s;
  }
  template <class T>
  std::vector<T> get_array() {
    const auto n = get<std::uint64_t>();
    if (n > in_.size()) throw RuntimeError("protocol: array longer than its message");
    need(n * sizeof(T));
    std::vector<T> v(n);
    std::memcpy(v.data(), in_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return v;
  }
  void done() const {
    if (pos_ != in_.size()) throw RuntimeError("protocol: trailing bytes in a message");
  }

 private:
  void need(std::size_t n) const {
    if (n > in_.size() - pos_) throw RuntimeError("protocol: message truncated");
  }
  const std::vector<char>& in_;
  std::size_t pos_ = 0;
};

void put_result(Writer& w, const store::JobResult& r) {
  w.put_string(r.status);
  for (double d : {r.lambda_hat, r.rel_error, r.mean_drift_noise_ratio, r.steps_per_second, r.seconds,
                   r.raw_estimate, r.estimate_se}) {
    w.put(d);
  }
  for (std::int64_t i : {r.diverged, r.diverged_chains, r.divergence_step, r.nonstationary}) w.put(i);
  for (const std::string* s : {&r.divergence_reason, &r.host, &r.backend, &r.precision, &r.finished, &r.message}) w.put_string(*s);
}

store::JobResult get_result(Reader& rd) {
  store::JobResult r;
  r.status = rd.get_string();
  for (double* d : {&r.lambda_hat, &r.rel_error, &r.mean_drift_noise_ratio, &r.steps_per_second, &r.seconds,
                    &r.raw_estimate, &r.estimate_se}) {
    *d = rd.get<double>();
  }
  for (std::int64_t* i : {&r.diverged, &r.diverged_chains, &r.divergence_step, &r.nonstationary}) {
    *i = rd.get<std::int64_t>();
  }
  for (std::string* s : {&r.divergence_reason, &r.host, &r.backend, &r.precision, &r.finished, &r.message}) *s = rd.get_string();
  return r;
}

}  // namespace

std::vector<char> encode(const Message& m) {
  Writer w;
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
      put_result(w, m.result);
      w.put_array(m.floats);
      break;
    case MsgType::kStop:
    case MsgType::kHeartbeat:
      break;
  }
  return w.take();
}

Message decode(const std::vector<char>& bytes) {
  Reader rd(bytes);
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
      m.result = get_result(rd);
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
