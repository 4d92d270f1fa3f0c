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

// CRC32C (Castagnoli), as in iSCSI, ext4 and most log formats.
std::uint32_t crc32c(ByteView bytes);
// The CRC32C of `first` followed by `second`, without joining them.
std::uint32_t crc32c(ByteView first, ByteView second);

}  // namespace essim::model
