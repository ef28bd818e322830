// A check of a store column's variable-length strings against the file on disk, before HDF5 reads
// them. Each string of such a column is a reference (length, global heap collection address,
// object index) into a global heap collection. A writer killed between writing a row and flushing
// the collection it added the row's string to can leave a reference to an object the collection
// on disk does not hold, and HDF5 1.10 then reads past its buffers and crashes (seen in the
// kill-and-resume soak, tools/soak.py). check_vlen_strings() reads the references and the
// collections they name from the file itself and throws RuntimeError naming the column and row
// when one does not resolve, so that a reader reports a damaged store (and a resume rebuilds it
// from its journal) instead of crashing. Private to lib/store.
#pragma once

#include <hdf5.h>

#include <string>

namespace llcb::store::h5 {

// dataset: a one-dimensional contiguous dataset of variable-length strings, `what` its name in
// messages. Flushes the file first when it is open for writing (so that the file on disk holds
// what this process wrote). A dataset whose raw data has no single file offset (chunked, compact,
// never written) or a file with other than 8-byte addresses and lengths is not checked.
void check_vlen_strings(hid_t dataset, const std::string& what);

}  // namespace llcb::store::h5
