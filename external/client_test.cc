// The client's batches as they go on the wire: each call's arguments moved
// into its request, a spliced member (a batch of events written as text)
// first in its request, the answers read in order.

#include "external/client.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "model/user_code.h"

namespace essim::external {
namespace {

// Keeps each line sent and answers with `answer(line)`.
class Recording final : public Channel {
 public:
  explicit Recording(std::vector<std::string>& sent) : sent_(sent) {}
  std::string exchange(const std::string& line, const std::string& /*call*/) override {
    sent_.push_back(line);
    // Every request answered ok with its own id, as a batch or alone.
    const Json requests = Json::parse(line);
    if (!requests.is_array()) return Json{{"id", requests["id"]}, {"ok", requests}}.dump();
    Json answers = Json::array();
    for (const Json& r : requests) answers.push_back(Json{{"id", r["id"]}, {"ok", r}});
    return answers.dump();
  }
  std::string name() const override { return "recording"; }

 private:
  std::vector<std::string>& sent_;
};

TEST(Client, ASplicedMemberGoesFirstInItsRequestAndTheRestIsAsBefore) {
  std::vector<std::string> sent;
  Client client(std::make_unique<Recording>(sent));
  std::vector<std::string> probes;
  // A batch of two calls, the splice in the second.
  Client::Spliced spliced{1, "events", R"([{"a":1},"x"])"};
  const std::vector<Json> answers =
      client.batch_or_nothing({{"load", Json{{"handler", "h"}, {"value", Json::object()}}},
                               {"apply_many", Json{{"handler", "h"}}}},
                              probes, &spliced);
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0], R"([{"call":"load","handler":"h","id":0,"value":{}},)"
                     R"({"events":[{"a":1},"x"],"call":"apply_many","handler":"h","id":1}])");
  ASSERT_EQ(answers.size(), 2U);
  EXPECT_EQ(answers[1]["events"], Json::parse(R"([{"a":1},"x"])"));
  EXPECT_EQ(answers[1]["call"], "apply_many");
  // A batch of one call with a splice, and a key that needs escaping.
  Client::Spliced odd{0, "a \"key\"", "[]"};
  const std::vector<Json> one =
      client.batch_or_nothing({{"apply_many", Json{{"model", 3}}}}, probes, &odd);
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(sent[1], R"([{"a \"key\"":[],"call":"apply_many","id":2,"model":3}])");
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0]["a \"key\""], Json::array());
  // Without a splice, the line is the library's dump of the requests.
  const std::vector<Json> plain =
      client.batch({{"initial", Json::object()}, {"decide", Json{{"state", nullptr}}}});
  ASSERT_EQ(sent.size(), 3U);
  EXPECT_EQ(sent[2], Json::parse(sent[2]).dump());
  EXPECT_EQ(plain[1]["id"], 4);
}

}  // namespace
}  // namespace essim::external
