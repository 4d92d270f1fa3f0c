#pragma once
// Events (public: include/essim/event.h), named in the model.

#include <compare>
#include <cstdint>
#include <string>

#include <essim/event.h>

#include "sim/rng.h"
#include "sim/time.h"
#include "sim/types.h"

namespace essim::model {

using sim::Bytes;
using sim::ByteView;
using sim::Micros;

using essim::CommandId;
using essim::describe;
using essim::Event;
using essim::EventId;
using essim::EventMetadata;
using essim::Id128;
using essim::to_string;

// A fresh id from a node's stream (never the empty id).
Id128 random_id(sim::Rng& rng);

}  // namespace essim::model
