#include "mpi/environment.hpp"

#include <cstdlib>

#include "mpi/check.hpp"

namespace llcb::mpi {

Environment::Environment(int* argc, char*** argv) {
  int provided = 0;
  LLCB_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
  try {
    LLCB_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    if (provided < MPI_THREAD_FUNNELED) {
      throw RuntimeError("the MPI library does not provide MPI_THREAD_FUNNELED");
    }
    LLCB_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    LLCB_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
    LLCB_MPI_CHECK(
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_comm_));
    LLCB_MPI_CHECK(MPI_Comm_rank(node_comm_, &node_rank_));
    LLCB_MPI_CHECK(MPI_Comm_size(node_comm_, &node_size_));
    char name[MPI_MAX_PROCESSOR_NAME];
    int length = 0;
    LLCB_MPI_CHECK(MPI_Get_processor_name(name, &length));
    host_.assign(name, static_cast<std::size_t>(length));
  } catch (...) {
    MPI_Finalize();
    throw;
  }
}

void abort_world(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();  // MPI_Abort does not return; this keeps the promise if it ever did
}

Environment::~Environment() {
  if (node_comm_ != MPI_COMM_NULL) MPI_Comm_free(&node_comm_);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace llcb::mpi
