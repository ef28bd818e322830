// RAII MPI environment: MPI_Init_thread on construction, MPI_Finalize on destruction.
//
// Contract: at most one Environment per process, created on the main thread. It requests
// MPI_THREAD_FUNNELED (only the main thread calls MPI; worker threads compute) and throws
// RuntimeError if the library provides less. Works under mpirun and as a singleton (no mpirun).
// node_rank()/node_size() come from MPI_Comm_split_type(MPI_COMM_TYPE_SHARED): the rank among the
// processes of the same node, used to map ranks to GPUs (node-local rank modulo visible devices).
// Errors on MPI_COMM_WORLD are returned, not fatal, so they surface as exceptions.
#pragma once

#include <mpi.h>

#include <string>

namespace llcb::mpi {

// Ends every rank of the run at once (MPI_Abort) with `code`: for an error on one rank after the
// ranks started cooperating, where returning would leave the others waiting for it.
[[noreturn]] void abort_world(int code);

class Environment {
 public:
  Environment(int* argc, char*** argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int node_rank() const { return node_rank_; }
  int node_size() const { return node_size_; }
  const std::string& host() const { return host_; }
  MPI_Comm node_comm() const { return node_comm_; }

 private:
  int rank_ = 0, size_ = 1, node_rank_ = 0, node_size_ = 1;
  std::string host_;
  MPI_Comm node_comm_ = MPI_COMM_NULL;
};

}  // namespace llcb::mpi
