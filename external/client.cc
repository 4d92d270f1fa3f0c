#include "external/client.h"

#include <fmt/format.h>

#include "model/probes.h"
#include "model/user_code.h"
#include "sim/assert.h"
#include "sim/probe.h"

namespace essim::external {

namespace {

constexpr std::size_t kLineShown = 200;

std::string shown(const std::string& line) {
  if (line.size() <= kLineShown) return line;
  return line.substr(0, kLineShown) + fmt::format("... ({} bytes)", line.size());
}

}  // namespace

Json Client::request(const std::string& call, Json args) {
  args["id"] = next_id_++;
  args["call"] = call;
  return args;
}

Json Client::result(const Json& response, std::uint64_t id, const std::string& call,
                    std::vector<std::string>* probes) {
  const auto fail = [&](const std::string& what) {
    throw model::HarnessFailure(
        fmt::format("the external domain {} answered `{}` {}", name(), call, what));
  };
  if (!response.is_object())
    fail("with something that is not an object: " + shown(response.dump()));
  const auto got = response.find("id");
  if (got == response.end() || !got->is_number_unsigned() || got->get<std::uint64_t>() != id)
    fail(fmt::format("without its id {}: {}", id, shown(response.dump())));
  // The coverage probes the call reached (sim/probe.h), whatever it answered.
  if (const auto reached = response.find("probes"); reached != response.end()) {
    if (!reached->is_array()) fail("with probes that are not a list of names");
    for (const Json& p : *reached) {
      if (!p.is_string() || !model::probes::well_formed(p.get<std::string>()))
        fail("with a probe that is not a name (1 to 64 letters, digits, '.', '_', '-'): " +
             shown(p.dump()));
      if (probes != nullptr) {
        probes->push_back(p.get<std::string>());
      } else {
        sim::probe(p.get<std::string>());
      }
    }
  }
  if (const auto ok = response.find("ok"); ok != response.end()) return *ok;
  if (const auto error = response.find("error"); error != response.end()) {
    const auto text = [&](const char* key) {
      const auto it = error->find(key);
      return it != error->end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (!error->is_object()) fail("with an error that is not an object");
    throw model::ForeignError(text("type").empty() ? "an exception" : text("type"), text("message"),
                              text("traceback"));
  }
  if (const auto p = response.find("protocol_error"); p != response.end()) {
    throw model::HarnessFailure(fmt::format("the external domain {} refused `{}`: {}", name(), call,
                                            p->is_string() ? p->get<std::string>() : p->dump()));
  }
  fail("with neither ok, error nor protocol_error: " + shown(response.dump()));
  return {};
}

Json Client::call(const std::string& call, Json args) {
  const std::uint64_t id = next_id_;
  // Strings that are not UTF-8 (which JSON cannot carry) go as U+FFFD.
  const std::string line = channel_->exchange(
      request(call, std::move(args)).dump(-1, ' ', false, Json::error_handler_t::replace),
      "`" + call + "`");
  auto response = parse_line(line);
  if (!response.ok()) {
    throw model::HarnessFailure(
        fmt::format("the external domain {} answered `{}` with a line "
                    "that is {}: {}",
                    name(), call, response.error().message, shown(line)));
  }
  return result(response.value(), id, call);
}

Json Client::exchange_batch(std::vector<std::pair<std::string, Json>>& calls,
                            const Spliced* spliced) {
  // The array as the library would dump it, with the spliced member first
  // in its request (a request always has members: id and call).
  std::string requests = "[";
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const std::string text = request(calls[i].first, std::move(calls[i].second))
                                 .dump(-1, ' ', false, Json::error_handler_t::replace);
    if (i > 0) requests += ',';
    if (spliced != nullptr && spliced->call == i) {
      requests += "{";
      append_json_text(requests, spliced->key);
      requests += ':';
      requests += spliced->json;
      requests += ',';
      requests.append(text, 1);
    } else {
      requests += text;
    }
  }
  requests += ']';
  const std::string what = calls.size() == 1 ? fmt::format("`{}`", calls.front().first)
                                             : fmt::format("a batch of {} calls from `{}`",
                                                           calls.size(), calls.front().first);
  const std::string line = channel_->exchange(requests, what);
  auto responses = parse_line(line);
  if (!responses.ok()) {
    throw model::HarnessFailure(
        fmt::format("the external domain {} answered {} with a line that "
                    "is {}: {}",
                    name(), what, responses.error().message, shown(line)));
  }
  if (!responses.value().is_array() || responses.value().size() != calls.size()) {
    throw model::HarnessFailure(
        fmt::format("the external domain {} answered {} with something "
                    "other than {} answers in an array: {}",
                    name(), what, calls.size(), shown(line)));
  }
  return std::move(responses).value();
}

std::vector<Json> Client::batch(std::vector<std::pair<std::string, Json>> calls) {
  if (calls.size() == 1) return {call(calls[0].first, std::move(calls[0].second))};
  const std::uint64_t first = next_id_;
  const Json responses = exchange_batch(calls);
  std::vector<Json> results;
  results.reserve(calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i)
    results.push_back(result(responses[i], first + i, calls[i].first));
  return results;
}

std::vector<Json> Client::batch_or_nothing(std::vector<std::pair<std::string, Json>> calls,
                                           std::vector<std::string>& probes,
                                           const Spliced* spliced) {
  ESSIM_ASSERT(!calls.empty());
  ESSIM_ASSERT(spliced == nullptr || spliced->call < calls.size());
  const std::uint64_t first = next_id_;
  const Json responses = exchange_batch(calls, spliced);
  std::vector<Json> results;
  results.reserve(calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i)
    results.push_back(result(responses[i], first + i, calls[i].first, &probes));
  return results;
}

}  // namespace essim::external
