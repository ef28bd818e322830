// Typed errors and the process exit codes they map to (design.md, "CLI contract").
//
//   UsageError    bad usage or bad input (arguments, configs, sizes, store files)  -> exit 2
//   RuntimeError  the input was fine but something failed at run time            -> exit 1
//   DeviceLostError a RuntimeError after which the device runs nothing more        -> exit 1
//   InternalError an invariant of llcbench itself is broken (a bug)               -> exit 1
//
// Messages are one line: what is wrong and where, never a stack trace.
#pragma once

#include <stdexcept>
#include <string>

namespace llcb {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // runtime failure (some job failed)
  kExitUsage = 2,        // bad usage or bad input
  kExitInterrupted = 3,  // interrupted, resumable
};

class Error : public std::runtime_error {
 public:
  Error(std::string message, ExitCode code) : std::runtime_error(std::move(message)), code_(code) {}
  ExitCode exit_code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

class UsageError : public Error {
 public:
  explicit UsageError(std::string message) : Error(std::move(message), kExitUsage) {}
};

class RuntimeError : public Error {
 public:
  explicit RuntimeError(std::string message) : Error(std::move(message), kExitFailure) {}
};

// A device that can run nothing more (a sticky CUDA error: illegal address, launch failure, ...):
// not a failure of the job that met it, so a sweep stops with this message (under MPI the worker's
// error aborts the run) instead of failing every later job on the same dead context (exit 1; the
// jobs stay pending for a resume).
class DeviceLostError : public RuntimeError {
 public:
  explicit DeviceLostError(std::string message) : RuntimeError(std::move(message)) {}
};

class InternalError : public Error {
 public:
  explicit InternalError(std::string message)
      : Error("internal error: " + std::move(message), kExitFailure) {}
};

}  // namespace llcb
