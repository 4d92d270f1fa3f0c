#pragma once
// The process protocol's requests and responses (docs/protocol.md) over a
// Channel: ids, results, the domain's own errors and protocol errors.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "external/channel.h"
#include "external/json.h"

namespace essim::external {

inline constexpr int kProtocolVersion = 1;

// The optional calls essim offers in `hello` (docs/protocol.md,
// "Capabilities"); a process answers with those it serves.
inline constexpr std::array<std::string_view, 5> kCapabilities{"fold", "apply_many", "model_walk",
                                                               "invariant_walk", "log_walk"};

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
  std::vector<Json> batch(std::vector<std::pair<std::string, Json>> calls);

  // The same for calls whose answers essim may do without (it then makes
  // other calls to the same effect): the coverage probes they reached are
  // added to `probes`, for the caller to count once it takes the answers.
  // Throws ForeignError when one answered an error; model::HarnessFailure as
  // batch().
  // A member of one call's arguments given as JSON text already (a batch of
  // events, written without building a Json: external/json.h).
  struct Spliced {
    std::size_t call = 0;  // its index in the batch
    std::string key;
    std::string json;
  };
  std::vector<Json> batch_or_nothing(std::vector<std::pair<std::string, Json>> calls,
                                     std::vector<std::string>& probes,
                                     const Spliced* spliced = nullptr);

  std::string name() const { return channel_->name(); }

 private:
  Json request(const std::string& call, Json args);
  // The result of `response`. Its probes count at once, or when `probes` is
  // given are added there.
  Json result(const Json& response, std::uint64_t id, const std::string& call,
              std::vector<std::string>* probes = nullptr);
  // The answers to `calls`, sent on one line, unread. Their arguments are
  // moved into the line (the names stay).
  Json exchange_batch(std::vector<std::pair<std::string, Json>>& calls,
                      const Spliced* spliced = nullptr);

  std::unique_ptr<Channel> channel_;
  std::uint64_t next_id_ = 0;
};

}  // namespace essim::external
