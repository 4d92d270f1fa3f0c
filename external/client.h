#pragma once
// The process protocol's requests and responses (docs/protocol.md) over a
// Channel: ids, results, the domain's own errors and protocol errors.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "external/channel.h"
#include "external/json.h"

namespace essim::external {

inline constexpr int kProtocolVersion = 1;

class Client {
 public:
  explicit Client(std::unique_ptr<Channel> channel) : channel_(std::move(channel)) {}

  // One request, `call` with the members of `args` (an object). Returns its
  // result. Throws model::ForeignError when the domain's code raised, and
  // model::HarnessFailure for anything else wrong (the channel's failures, a
  // malformed answer, a protocol_error).
  Json call(const std::string& call, Json args = Json::object());

  // Several requests on one line, answered in order. Throws as call() at the
  // first answer that is not a result.
  std::vector<Json> batch(const std::vector<std::pair<std::string, Json>>& calls);

  std::string name() const { return channel_->name(); }

 private:
  Json request(const std::string& call, Json args);
  Json result(const Json& response, std::uint64_t id, const std::string& call);

  std::unique_ptr<Channel> channel_;
  std::uint64_t next_id_ = 0;
};

}  // namespace essim::external
