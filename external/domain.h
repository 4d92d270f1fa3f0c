#pragma once
// A domain in another process (docs/protocol.md): an essim Domain whose
// every call is a request to that process, answered in lockstep while
// simulated time stands still. States travel with the calls; read models
// stay in essim and are cached in the process under handles.
//
// Each thread has its own process (a sweep thread, the main thread): the
// first is the one open_external() started; every other thread starts its
// own on first use and requires the same handshake. A failed process is
// started again on next use.

#include <memory>
#include <optional>
#include <string>

#include "external/channel.h"
#include "external/json.h"
#include "model/domain.h"

namespace essim::external {

struct ExternalSpec {
  std::optional<ChildSpec> child;  // one of the two
  std::optional<Endpoint> tcp;
  Millis deadline = kDeadlineDefault;
};

// Starts (or connects to) the process and shakes hands. Throws
// model::HarnessFailure when it cannot, naming the process and what is wrong
// with what it declared.
std::unique_ptr<model::Domain> open_external(const ExternalSpec& spec);

// An event as the protocol sends it (docs/protocol.md, "Events"): as a Json,
// and appended to `out` as the same JSON text without building the Json.
// Throw BadPayload for a payload essim did not write.
Json event_json(const Event& e);
void append_event_json(std::string& out, const Event& e);

}  // namespace essim::external
