#include "model/personal.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "model/domain.h"
#include "model/domains/customers.h"
#include "model/messages.h"
#include "sim/simulation.h"

namespace essim::model {
namespace {

Bytes key_of(std::uint8_t fill) {
  return Bytes(kSubjectKeyBytes, fill);
}

TEST(Personal, SealedValuesOpenWithTheirKeyOnly) {
  const Bytes key = key_of(7);
  const std::string token = seal_value("customer-1", key, EventId{1, 2}, 0, "Ada 00c0ff");
  EXPECT_TRUE(token.starts_with(kTokenPrefix));
  EXPECT_EQ(token.find("Ada"), std::string::npos);
  EXPECT_EQ(open_token(token, key), "Ada 00c0ff");
  EXPECT_EQ(open_token(token, key_of(8)), std::nullopt);
  EXPECT_EQ(token_subject(token), "customer-1");
  // The same inputs seal the same bytes (a seed fixes a run); another field
  // or event, other bytes.
  EXPECT_EQ(token, seal_value("customer-1", key, EventId{1, 2}, 0, "Ada 00c0ff"));
  EXPECT_NE(token, seal_value("customer-1", key, EventId{1, 2}, 1, "Ada 00c0ff"));
  EXPECT_NE(token, seal_value("customer-1", key, EventId{1, 3}, 0, "Ada 00c0ff"));
}

TEST(Personal, ATokenMovedToAnotherSubjectDoesNotOpen) {
  const Bytes key = key_of(7);
  const std::string token = seal_value("customer-1", key, EventId{1, 2}, 0, "x");
  // Same key, the subject (the additional data) rewritten in the token.
  std::string moved = token;
  const std::string from = "637573746f6d65722d31";  // hex of customer-1
  ASSERT_NE(moved.find(from), std::string::npos);
  moved.replace(moved.find(from), from.size(), "637573746f6d65722d32");
  EXPECT_EQ(token_subject(moved), "customer-2");
  EXPECT_EQ(open_token(moved, key), std::nullopt);
}

TEST(Personal, HostileTokensAreNotTokens) {
  const Bytes key = key_of(1);
  for (const std::string& bad : std::vector<std::string>{
           "", "pii1.", "pii1..", "pii1.zz.00", "pii1.61.0", "pii1.61." + std::string(50, '0'),
           "pii1.61", "PII1.61.00", std::string("pii1.\xff.00", 10)}) {
    EXPECT_EQ(open_token(bad, key), std::nullopt) << bad;
  }
  EXPECT_EQ(open_token(seal_value("s", key, EventId{}, 0, "v"), Bytes(3, 0)), std::nullopt);
}

TEST(Personal, EvidenceShowsWhoseDataNotTheData) {
  const std::string token = seal_value("customer-4", key_of(2), EventId{9, 9}, 0, "Grace 1");
  EXPECT_EQ(mask_tokens("name " + token + ", email " + token + "."),
            "name <sealed: customer-4>, email <sealed: customer-4>.");
  EXPECT_EQ(mask_tokens("no token here, pii1.zz"), "no token here, pii1.zz");
}

RC_GTEST_PROP(Personal, AnyValueRoundTripsAndAnyChangedByteIsRefused,
              (const std::string& subject, const std::string& value, std::uint64_t id,
               std::uint8_t fill)) {
  const Bytes key = key_of(fill);
  const std::string token = seal_value(subject, key, EventId{id, ~id}, 3, value);
  RC_ASSERT(open_token(token, key) == value);
  RC_ASSERT(token_subject(token) == subject);
  // Flip one hex digit of the sealed part: the tag refuses it.
  const std::size_t sealed_from = token.rfind('.') + 1;
  const std::size_t at = *rc::gen::inRange(sealed_from, token.size());
  std::string changed = token;
  changed[at] = changed[at] == '0' ? '1' : '0';
  RC_ASSERT(open_token(changed, key) == std::nullopt);
}

// The customers domain seals both its personal fields and nothing else.
TEST(Personal, TheCustomersDomainSealsNameAndEmail) {
  const Domain& customers = *Registry::builtin().domain("customers");
  const PersonalIndex index(customers);
  ASSERT_NE(index.find("CustomerRegistered"), nullptr);
  ASSERT_NE(index.find("EmailChanged"), nullptr);
  EXPECT_EQ(index.find("Other"), nullptr);
  Rng rng(5);
  const Work work = customers.generate("register", rng);
  const Command& command = std::get<Command>(work);
  auto decided = customers.decide_state(*customers.initial_state(), command);
  ASSERT_TRUE(decided.ok());
  Event e;
  e.id = EventId{4, 4};
  e.stream = command.stream;
  e.type = decided.value().front().type;
  e.payload = decided.value().front().payload;
  const PersonalData& data = *index.find(e.type);
  EXPECT_EQ(personal_subject(data, e), command.stream);
  std::vector<std::string> seen;
  const Bytes key = key_of(3);
  std::uint32_t field = 0;
  Event sealed = e;
  sealed.payload = rewrite_personal(data, e, [&](const std::string& v) {
    seen.push_back(v);
    return seal_value(command.stream, key, e.id, field++, v);
  });
  ASSERT_EQ(seen.size(), 2U);
  const std::string text(sealed.payload.begin(), sealed.payload.end());
  for (const std::string& v : seen) EXPECT_EQ(text.find(v), std::string::npos) << v;
  // Evolve and the handler read the tokens without complaint; revealed, the
  // same values come back.
  auto state = customers.initial_state();
  customers.evolve_state(*state, sealed);
  std::vector<std::string> opened;
  (void)rewrite_personal(data, sealed, [&](const std::string& t) {
    opened.push_back(open_token(t, key).value_or("?"));
    return t;
  });
  EXPECT_EQ(opened, seen);
}

}  // namespace
}  // namespace essim::model

namespace essim::model {
namespace {

// Sends what the test says and keeps every reply.
class KeyDriver final : public sim::Node {
 public:
  void on_start(sim::Env&) override {}
  void on_message(sim::Env&, const sim::Message& m) override {
    auto decoded = decode(m.bytes);
    if (decoded.ok()) replies.push_back(std::get<KeyReply>(decoded.value()));
  }
  std::vector<KeyReply> replies;
};

struct KeyStoreSut {
  PersonalLedger ledger;
  sim::Simulation sim;
  KeyDriver* driver = nullptr;
  std::uint64_t next_request = 1;

  explicit KeyStoreSut(std::vector<KeyStoreConfig::Forget> forgets) : sim(11, sim::SimConfig{}) {
    KeyStoreConfig config;
    config.forgets = std::move(forgets);
    config.ledger = &ledger;
    sim.add_node("keys", [config] { return std::make_unique<KeyStoreNode>(config); });
    sim.add_node("driver", [this] {
      auto node = std::make_unique<KeyDriver>();
      driver = node.get();
      return node;
    });
    sim.start();
  }
  KeyReply ask(const std::string& subject, bool create) {
    const std::size_t before = driver->replies.size();
    sim::SimEnv(sim, 1).send(0, encode(Message{KeyRequest{next_request++, subject, create}}));
    (void)sim.run_until_quiet(sim::seconds(1), [&] { return driver->replies.size() > before; });
    EXPECT_EQ(driver->replies.size(), before + 1);
    return driver->replies.empty() ? KeyReply{} : driver->replies.back();
  }
  Bytes key_file() { return sim.disk(0).current_content(kKeysFile).value(); }
};

bool holds(const Bytes& haystack, const Bytes& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

TEST(KeyStore, KeysAreDurableBeforeGivenOutAndForgettingDeletesThem) {
  KeyStoreSut sut({{sim::millis(100), "customer-1"}});
  const KeyReply none = sut.ask("customer-1", false);
  EXPECT_EQ(none.status, KeyReply::Status::kNone);
  const KeyReply made = sut.ask("customer-1", true);
  ASSERT_EQ(made.status, KeyReply::Status::kKey);
  ASSERT_EQ(made.key.size(), kSubjectKeyBytes);
  const KeyReply other = sut.ask("customer-2", true);
  EXPECT_NE(other.key, made.key);
  // A crash right after the answer keeps the key: it was durable first.
  sut.sim.crash(0);
  sut.sim.restart(0);
  EXPECT_EQ(sut.ask("customer-1", false).key, made.key);
  EXPECT_TRUE(holds(sut.key_file(), made.key));

  (void)sut.sim.run_until(sim::millis(150));
  ASSERT_EQ(sut.ledger.forgotten.size(), 1U);
  EXPECT_EQ(sut.ledger.forgotten[0].subject, "customer-1");
  EXPECT_EQ(sut.ledger.forgotten[0].key, made.key);
  EXPECT_GE(sut.ledger.forgotten[0].at_us, sim::millis(100));
  // Gone from memory and disk, for good: no new key either.
  EXPECT_EQ(sut.ask("customer-1", true).status, KeyReply::Status::kForgotten);
  EXPECT_FALSE(holds(sut.key_file(), made.key));
  EXPECT_TRUE(holds(sut.key_file(), other.key));
  sut.sim.crash(0);
  sut.sim.restart(0);
  EXPECT_EQ(sut.ask("customer-1", true).status, KeyReply::Status::kForgotten);
  EXPECT_EQ(sut.ask("customer-2", false).key, other.key);
  EXPECT_EQ(sut.ledger.forgotten.size(), 1U);
}

TEST(KeyStore, AForgetDueWhileItWasDownIsCarriedOutAtRestart) {
  KeyStoreSut sut({{sim::millis(20), "customer-1"}});
  ASSERT_EQ(sut.ask("customer-1", true).status, KeyReply::Status::kKey);
  sut.sim.crash(0);
  (void)sut.sim.run_until(sim::millis(50));
  EXPECT_TRUE(sut.ledger.forgotten.empty());
  sut.sim.restart(0);
  (void)sut.sim.run_until(sim::millis(60));
  ASSERT_EQ(sut.ledger.forgotten.size(), 1U);
  EXPECT_GE(sut.ledger.forgotten[0].at_us, sim::millis(50));
  EXPECT_EQ(sut.ask("customer-1", false).status, KeyReply::Status::kForgotten);
}

}  // namespace
}  // namespace essim::model
