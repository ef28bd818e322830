#include "mpi/sweep.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "lib/core/error.hpp"
#include "lib/core/log.hpp"
#include "mpi/check.hpp"
#include "mpi/group.hpp"
#include "mpi/protocol.hpp"
#include "lib/sweep/calibrate.hpp"

namespace llcb::mpi {
namespace {

constexpr int kTag = 7;

void send(int to, const Message& m) {
  const std::vector<char> bytes = encode(m);
  LLCB_MPI_CHECK(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, to, kTag, MPI_COMM_WORLD));
}

// Receives the message whose arrival `status` announced (from MPI_Probe or MPI_Iprobe).
Message receive(MPI_Status status) {
  int count = 0;
  LLCB_MPI_CHECK(MPI_Get_count(&status, MPI_BYTE, &count));
  std::vector<char> bytes(static_cast<std::size_t>(count));
  LLCB_MPI_CHECK(MPI_Recv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, kTag, MPI_COMM_WORLD,
                          MPI_STATUS_IGNORE));
  return decode(bytes);
}

using Clock = std::chrono::steady_clock;

}  // namespace

void broadcast(std::string& text) {
  std::uint64_t n = text.size();
  LLCB_MPI_CHECK(MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD));
  text.resize(n);
  LLCB_MPI_CHECK(MPI_Bcast(text.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD));
}

sweep::RunSummary schedule(const Environment& env, const sweep::SweepConfig& config,
                           sweep::SweepSession& session, const ScheduleOptions& options) {
  sweep::RunSummary summary;
  summary.total = static_cast<std::int64_t>(session.grid().size());
  summary.skipped = session.skipped();
  // Jobs that can run now; a calibrated job waits for its calibration (calibrations go out
  // before jobs, one to a worker, each once).
  std::vector<const sweep::Job*> queue;
  std::map<std::int64_t, std::vector<const sweep::Job*>> waiting;  // calibration -> its jobs
  for (const sweep::Job* j : session.todo()) {
    if (session.ready(*j)) {
      queue.push_back(j);
    } else {
      waiting[j->calibration].push_back(j);
    }
  }
  std::vector<std::int64_t> calibrations;  // to hand out, in order
  for (const auto& [unit, jobs] : waiting) calibrations.push_back(unit);
  sweep::ProgressMeter meter(summary.total, summary.skipped, static_cast<std::int64_t>(session.todo().size()),
                             config.chains_per_job, options.on_progress);

  struct Worker {
    std::string host;
    std::vector<const sweep::Job*> jobs;  // the jobs it runs (a bundle; as a group member too)
    std::int64_t last_problem = -1;
    std::int64_t calibration = -1;  // the calibration it runs
    Clock::time_point heard;
    bool busy() const { return !jobs.empty() || calibration >= 0; }
    const sweep::Job* running(std::int64_t index) const {
      for (const sweep::Job* j : jobs) {
        if (j->index == index) return j;
      }
      return nullptr;
    }
  };
  std::map<int, Worker> workers;
  std::vector<int> idle;  // workers that asked for work and wait for it, in order of asking
  int active = env.size() - 1;
  bool stopping = false;  // a stop was requested here or a worker was interrupted
  // A stop comes from a signal, or from a store that can no longer be written (its journal keeps
  // what finishes meanwhile; the next resume repairs the store).
  const auto stop_requested = [&] { return (options.stop && options.stop->load()) || !session.failed().empty(); };
  const auto assign = [&](const std::vector<const sweep::Job*>& jobs, const std::vector<int>& members) {
    Message m{MsgType::kJob};
    m.job = jobs.front()->index;
    for (std::size_t i = 1; i < jobs.size(); ++i) m.bundle.push_back(jobs[i]->index);
    for (const sweep::Job* j : jobs) m.steps.push_back(j->step_size);
    if (members.size() > 1) m.group.assign(members.begin(), members.end());
    for (int r : members) {
      workers[r].jobs = jobs;
      workers[r].last_problem = jobs.front()->problem_index;
      send(r, m);
    }
  };
  // Hands queued jobs to idle workers, in queue order. A job of G = 1 goes to the first idle
  // worker, preferring (among the jobs before the next group job) one of the problem it ran
  // last, with up to sweep.bundle - 1 more queued jobs of its problem and sampler (a bundle). A job of G > 1 waits at the head of the queue until G workers are idle (those on the
  // node with the most idle workers first), holding the idle ones meanwhile; workers busy with
  // G = 1 jobs finish them first. With no work left or a stop pending, idle workers get kStop.
  const auto dispatch = [&] {
    while (!idle.empty()) {
      if (stopping || stop_requested() || (queue.empty() && waiting.empty())) {
        for (int r : idle) send(r, Message{MsgType::kStop});
        active -= static_cast<int>(idle.size());
        idle.clear();
        return;
      }
      if (!calibrations.empty()) {  // a calibration unblocks its jobs: first
        const int r = idle.front();
        idle.erase(idle.begin());
        Message m{MsgType::kJob};
        m.calibration = calibrations.front();
        calibrations.erase(calibrations.begin());
        const sweep::CalibrationUnit& unit = session.calibrations()[static_cast<std::size_t>(m.calibration)];
        workers[r].calibration = m.calibration;
        workers[r].last_problem = unit.problem_index;
        send(r, m);
        continue;
      }
      if (queue.empty()) return;  // idle until a running calibration releases its jobs
      const sweep::Job* head = queue.front();
      if (head->ranks_per_chain > 1) {
        const auto g = static_cast<std::size_t>(head->ranks_per_chain);
        if (idle.size() < g) return;
        std::map<std::string, int> per_host;
        for (int r : idle) ++per_host[workers[r].host];
        std::vector<int> order = idle;
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
          return per_host[workers[a].host] > per_host[workers[b].host] ||
                 (per_host[workers[a].host] == per_host[workers[b].host] &&
                  workers[a].host < workers[b].host);
        });
        std::vector<int> members(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(g));
        for (int r : members) idle.erase(std::find(idle.begin(), idle.end(), r));
        queue.erase(queue.begin());
        assign({head}, members);
        continue;
      }
      const int r = idle.front();
      auto pick = queue.begin();
      for (auto it = queue.begin(); it != queue.end() && (*it)->ranks_per_chain == 1; ++it) {
        if ((*it)->problem_index == workers[r].last_problem) {
          pick = it;
          break;
        }
      }
      const auto picked = sweep::bundle_of(queue, static_cast<std::size_t>(pick - queue.begin()), config.bundle);
      std::vector<const sweep::Job*> bundle;
      for (std::size_t i : picked) bundle.push_back(queue[i]);
      std::vector<std::size_t> gone = picked;
      std::sort(gone.rbegin(), gone.rend());
      for (std::size_t i : gone) queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(i));
      idle.erase(idle.begin());
      assign(bundle, {r});
    }
  };
  Clock::time_point checked = Clock::now();  // when can_record() was last asked (a stat of the lock)
  while (active > 0) {
    if (Clock::now() - checked > std::chrono::seconds(1)) {
      checked = Clock::now();
      if (!session.can_record()) {
        // Nothing that finishes now could be recorded: stop waiting for the running jobs (rank 0
        // then ends the run, their workers with it); they run again on resume.
        for (const auto& [rank, w] : workers) {
          summary.abandoned += static_cast<std::int64_t>(w.jobs.size()) + (w.calibration >= 0 ? 1 : 0);
        }
        if (summary.abandoned > 0) {
          log::error("the store can no longer record results: not waiting for the {} running jobs "
                     "(they run again on resume)", summary.abandoned);
          summary.interrupted = true;
          break;
        }
      }
    }
    int flag = 0;
    MPI_Status status;
    LLCB_MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, kTag, MPI_COMM_WORLD, &flag, &status));
    if (!flag) {
      if (stop_requested() && !stopping) {
        stopping = true;
        log::warn("stop requested: finishing the running jobs' bookkeeping, handing out no more work");
        dispatch();
      }
      const auto now = Clock::now();
      for (const auto& [rank, w] : workers) {
        const double silent = std::chrono::duration<double>(now - w.heard).count();
        if (w.busy() && silent > options.heartbeat_timeout) {
          log::error("rank {} ({}) has sent nothing for {:.0f} s while running {}; aborting the run "
                     "(finished jobs are in the store: rerun with --resume)",
                     rank, w.host, silent,
                     w.jobs.empty() ? "calibration " + session.calibrations()[static_cast<std::size_t>(w.calibration)].id
                                    : "job " + w.jobs.front()->id);
          std::fprintf(stderr, "llcbench sweep: error: rank %d (%s) stopped answering; aborting\n", rank,
                       w.host.c_str());
          MPI_Abort(MPI_COMM_WORLD, 1);
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    const int from = status.MPI_SOURCE;
    const Message m = receive(status);
    Worker& w = workers[from];
    w.heard = Clock::now();
    switch (m.type) {
      case MsgType::kRequest:
        w.host = m.host;
        w.jobs.clear();
        w.calibration = -1;
        idle.push_back(from);
        dispatch();
        break;
      case MsgType::kChunk:
        if (const sweep::Job* job = w.running(m.job)) {
          session.record_chunk(*job, static_cast<std::size_t>(m.chain), m.first_step, m.floats.data(),
                               m.floats.size());
        }
        break;
      case MsgType::kResult: {
        const sweep::Job* job = w.running(m.job);
        if (!job) throw RuntimeError("protocol: result for a job not assigned");
        w.jobs.erase(std::find(w.jobs.begin(), w.jobs.end(), job));
        if (!session.record(*job, m.result, m.floats, w.host, m.result.backend)) {
          summary.interrupted = true;  // not recorded anywhere: it runs again on resume
          break;
        }
        ++summary.ran;
        summary.failed += m.result.status == "failed";
        meter.finished(*job, m.result, session.truth(*job));
        break;
      }
      case MsgType::kCalibrated: {
        if (m.job < 0 || m.job != w.calibration) throw RuntimeError("protocol: a calibration not assigned");
        w.calibration = -1;
        const sweep::CalibrationUnit& unit = session.calibrations()[static_cast<std::size_t>(m.job)];
        if (!session.record_calibration(unit, m.calibration_record, m.floats, w.host)) {
          summary.interrupted = true;  // not recorded anywhere: it runs again on resume
          break;
        }
        if (options.on_calibration) options.on_calibration(unit, m.calibration_record);
        auto& released = waiting[m.job];
        queue.insert(queue.end(), released.begin(), released.end());
        std::stable_sort(queue.begin(), queue.end(),
                         [](const sweep::Job* a, const sweep::Job* b) { return a->index < b->index; });
        waiting.erase(m.job);
        dispatch();  // idle workers waited for these jobs
        break;
      }
      case MsgType::kInterrupted:
        summary.interrupted = true;
        stopping = true;
        w.jobs.clear();
        w.calibration = -1;
        dispatch();  // idle workers held for a group job learn that there is no more work
        break;
      case MsgType::kHeartbeat:
        break;
      default:
        throw RuntimeError("protocol: unexpected message from rank " + std::to_string(from));
    }
  }
  if ((stopping || stop_requested()) && (!queue.empty() || !waiting.empty())) summary.interrupted = true;
  summary.done = meter.progress().done;
  summary.summary = session.finish();
  summary.store_error = session.failed();
  summary.interrupted |= !summary.store_error.empty();
  return summary;
}

std::unique_ptr<backend::Backend> make_worker_backend(const Environment& env, const sweep::SweepConfig& config,
                                                      const WorkerOptions& options) {
  backend::BackendOptions bo = sweep::backend_options(config);
  bo.local_rank = env.node_rank();  // the rank-to-GPU rule of docs/cluster.md
  bo.stop = options.stop;
  return backend::make_backend(bo);
}

std::string first_error(const Environment& env, const std::string& host, const std::string& error) {
  int mine = error.empty() ? env.size() : env.rank();
  int first = 0;
  LLCB_MPI_CHECK(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  if (first == env.size()) return "";
  std::string text = env.rank() == first ? "rank " + std::to_string(first) + " (" + host + "): " + error : "";
  std::uint64_t n = text.size();
  LLCB_MPI_CHECK(MPI_Bcast(&n, 1, MPI_UINT64_T, first, MPI_COMM_WORLD));
  text.resize(n);
  LLCB_MPI_CHECK(MPI_Bcast(text.data(), static_cast<int>(n), MPI_CHAR, first, MPI_COMM_WORLD));
  return text;
}

bool work(const Environment& /*env*/, const sweep::SweepConfig& config, const WorkerOptions& options,
          backend::Backend& backend) {
  backend::Backend* be = &backend;
  const std::vector<sweep::Job> grid = sweep::make_grid(config);
  const std::vector<sweep::CalibrationUnit> units = sweep::make_calibrations(config);
  std::int64_t problem_index = -1;
  dln::Problem problem;
  bool cut_short = false;  // a stop request interrupted a job or calibration of this worker
  const auto use_problem = [&](std::int64_t index) {
    if (index == problem_index) return;
    // A worker runs chains only: the store already holds each problem's local truth.
    problem = sweep::make_problem(config, index, dln::LocalTruthMode::kSkip);
    problem_index = index;
  };
  while (true) {
    Message request{MsgType::kRequest};
    request.host = options.host;
    request.backend = be->name();
    send(0, request);
    MPI_Status status;
    LLCB_MPI_CHECK(MPI_Probe(0, kTag, MPI_COMM_WORLD, &status));
    const Message m = receive(status);
    // Interrupted only when a stop cut a job or calibration short: a stop that reaches an idle
    // worker of a finished sweep (a time limit at its very end) interrupted nothing.
    if (m.type == MsgType::kStop) return cut_short;
    if (m.type == MsgType::kJob && m.calibration >= 0 && m.calibration < static_cast<std::int64_t>(units.size())) {
      const sweep::CalibrationUnit& unit = units[static_cast<std::size_t>(m.calibration)];
      use_problem(unit.problem_index);
      sweep::CalibrationOutcome c = sweep::run_calibration(config, unit, problem, *be,
                                                           [] { send(0, Message{MsgType::kHeartbeat}); });
      cut_short |= c.interrupted;
      Message reply{c.interrupted ? MsgType::kInterrupted : MsgType::kCalibrated};
      reply.job = c.interrupted ? -1 : m.calibration;
      reply.calibration_record = std::move(c.record);
      reply.floats = std::move(c.trace);
      send(0, reply);  // after an interruption rank 0 answers the next request with kStop
      continue;
    }
    if (m.type != MsgType::kJob || m.job < 0 || m.job >= static_cast<std::int64_t>(grid.size()) ||
        m.steps.size() != m.bundle.size() + 1) {
      throw RuntimeError("protocol: expected a job from rank 0");
    }
    // The job, then the rest of its bundle, with the step sizes rank 0 sent (a calibrated job's
    // comes from its recorded calibration).
    std::vector<sweep::Job> mine;
    mine.push_back(grid[static_cast<std::size_t>(m.job)]);
    for (const std::int64_t index : m.bundle) {
      if (index < 0 || index >= static_cast<std::int64_t>(grid.size()) ||
          grid[static_cast<std::size_t>(index)].problem_index != mine.front().problem_index) {
        throw RuntimeError("protocol: a bundle's jobs must be jobs of one problem");
      }
      mine.push_back(grid[static_cast<std::size_t>(index)]);
    }
    std::vector<const sweep::Job*> jobs;
    for (std::size_t i = 0; i < mine.size(); ++i) {
      if (mine[i].calibration < 0 && mine[i].step_size != m.steps[i]) {
        throw RuntimeError("protocol: job " + mine[i].id + " sent with another step size");
      }
      mine[i].step_size = m.steps[i];
      jobs.push_back(&mine[i]);
    }
    const sweep::Job& job = *jobs.front();
    use_problem(job.problem_index);
    if (static_cast<std::int64_t>(std::max<std::size_t>(m.group.size(), 1)) != job.ranks_per_chain) {
      throw RuntimeError("protocol: job " + job.id + " needs a group of " +
                         std::to_string(job.ranks_per_chain) + " ranks");
    }
    // A chain group: every member runs the chain; member 0 streams and reports it, the others
    // send heartbeats so that rank 0 knows they are alive.
    std::unique_ptr<backend::ChainGroup> group;
    if (m.group.size() > 1) group = make_chain_group(be->name(), m.group, static_cast<int>(job.index % 30000));
    const bool reporter = !group || group->rank() == 0;
    sweep::JobTraceListener listener;
    listener.interval_seconds = options.chunk_seconds;
    listener.on_losses = [&](const sweep::Job& j, std::size_t chain, std::int64_t first,
                             const float* losses, std::size_t n) {
      if (!reporter) {
        send(0, Message{MsgType::kHeartbeat});
        return;
      }
      Message chunk{MsgType::kChunk};
      chunk.job = j.index;
      chunk.chain = static_cast<std::int64_t>(chain);
      chunk.first_step = first;
      chunk.floats.assign(losses, losses + n);
      send(0, chunk);
    };
    std::vector<sweep::JobOutcome> outcomes =
        sweep::run_jobs(config, jobs, problem, *be, &listener, group.get());
    group.reset();
    bool interrupted = false;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (outcomes[i].interrupted) {
        interrupted = true;
        continue;
      }
      if (!reporter) continue;
      Message result{MsgType::kResult};
      result.job = jobs[i]->index;
      result.result = std::move(outcomes[i].result);
      result.floats = std::move(outcomes[i].trace);
      send(0, result);
    }
    cut_short |= interrupted;
    if (interrupted) {  // rank 0 answers the next request with kStop
      Message stopped{MsgType::kInterrupted};
      stopped.job = job.index;
      send(0, stopped);
    }
  }
}

}  // namespace llcb::mpi
