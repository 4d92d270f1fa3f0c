#pragma once
// The binary codec: Writer and Reader (public, include/essim/codec.h), and the
// CRC32C the log and the small files are checked with.

#include <cstdint>
#include <string>
#include <string_view>

#include <essim/codec.h>

#include "model/event.h"
#include "sim/result.h"

namespace essim::model {

using essim::Reader;
using essim::Writer;

// CRC32C (Castagnoli), as in iSCSI, ext4 and most log formats: with the
// SSE4.2 instruction where the processor has it, else with Boost.CRC's
// tables. Both give the same answer (a property test holds them to it).
std::uint32_t crc32c(ByteView bytes);
// The CRC32C of `first` followed by `second`, without joining them.
std::uint32_t crc32c(ByteView first, ByteView second);

namespace detail {
// For tests and benchmarks: each implementation alone. The hardware one may
// be called only when crc32c_hardware() is true.
bool crc32c_hardware();
std::uint32_t crc32c_portable(ByteView first, ByteView second);
std::uint32_t crc32c_sse42(ByteView first, ByteView second);
}  // namespace detail

}  // namespace essim::model
