// Each property against a hand-built run: the smallest log (and history) that
// breaks it, which it must report with the right evidence, and a clean twin
// that it must pass. Events come from the domains' own deciders, so their
// payloads are the real encodings.

#include "properties/properties.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "model/domains/bank.h"
#include "model/domains/customers.h"
#include "model/domains/inventory.h"
#include "model/personal.h"

namespace essim::properties {
namespace {

using model::Command;
using model::Event;
using model::NewEvent;

const model::Domain& domain(std::string_view name) {
  const model::Domain* d = model::Registry::builtin().domain(name);
  EXPECT_NE(d, nullptr);
  return *d;
}

// The first command of `kind` the domain generates, re-addressed to `stream`.
Command command(const model::Domain& d, std::string_view kind, std::uint64_t seed = 1) {
  sim::Rng rng(seed);
  model::Work work = d.generate(kind, rng);
  if (auto* c = std::get_if<Command>(&work)) return *c;
  return std::get<model::Saga>(work).steps.front().action;
}

// A transfer saga's step `index` (0 request, 1 debit, 2 credit, 3 settle, 4 complete).
Command transfer_step(std::size_t index, bool compensation = false) {
  sim::Rng rng(1);
  const model::Saga saga = std::get<model::Saga>(domain("bank").generate("transfer", rng));
  const model::SagaStep& step = saga.steps.at(index);
  return compensation ? *step.compensation : step.action;
}

template <typename State>
NewEvent decided(const model::Domain& d, const State& state, const Command& c) {
  auto events = d.decide_state(*essim::TypedDomain<State>::box(state), c);
  EXPECT_TRUE(events.ok()) << c.kind << ": " << events.error().message;
  EXPECT_FALSE(events.value().empty()) << c.kind;
  return events.value().front();
}

// A store log built one single-event commit at a time.
class LogBuilder {
 public:
  // Appends `e` to `stream` at the next version and position unless told otherwise.
  Event add(const std::string& stream, const NewEvent& e, std::optional<std::uint64_t> version = {},
            std::optional<std::uint64_t> position = {}) {
    Event event;
    event.id = model::EventId{1, next_position_};
    event.stream = stream;
    event.version = version.value_or(versions_[stream] + 1);
    event.position = position.value_or(next_position_);
    event.type = e.type;
    event.schema_version = e.schema_version;
    event.payload = e.payload;
    event.metadata.correlation_id = model::EventId{2, next_position_};
    versions_[stream] = event.version;
    next_position_ = std::max(next_position_, event.position) + 1;
    log_.commits.push_back({model::CommandId{3, event.position}, {event}});
    return log_.commits.back().events.back();
  }
  model::StoreLog& log() { return log_; }

 private:
  model::StoreLog log_;
  std::map<std::string, std::uint64_t> versions_;
  std::uint64_t next_position_ = 1;
};

struct HandBuiltRun {
  const model::Domain* domain;
  model::History history;
  LogBuilder log;
  bool quiet = true;
  std::vector<RebuildView> rebuilds;
  model::BackupLog backups;
  std::optional<RestoreView> restore;
  std::optional<PersonalView> personal;

  explicit HandBuiltRun(std::string_view name) : domain(&properties::domain(name)) {}
  std::vector<Violation> check(const std::string& property) {
    RunView view;
    view.domain = domain;
    view.history = &history;
    view.log = &log.log();
    view.quiet = quiet;
    view.heal_end = quiet ? "quiet" : "time-bound at 60s";
    view.rebuilds = rebuilds;
    view.backups = &backups;
    view.restore = restore;
    view.personal = personal;
    return properties::check(view, {property});
  }
};

model::domains::BankAccount open_account(std::int64_t balance_cents) {
  model::domains::BankAccount a;
  a.open = true;
  a.balance_cents = balance_cents;
  a.currency = "USD";
  return a;
}

// The one violation `property` reported.
Violation only(const std::vector<Violation>& violations, const std::string& property) {
  EXPECT_EQ(violations.size(), 1U);
  if (violations.empty()) return {};
  EXPECT_EQ(violations.front().property, property);
  return violations.front();
}

bool cites(const Violation& v, std::uint64_t position) {
  return std::find(v.positions.begin(), v.positions.end(), position) != v.positions.end();
}

// ---- generic properties ----

TEST(StreamVersionsContiguous, AGapIsReportedWithTheEventsAroundIt) {
  HandBuiltRun bad("bank");
  const NewEvent opened =
      decided(*bad.domain, model::domains::BankAccount{}, command(*bad.domain, "open"));
  bad.log.add("acct-0", opened);
  bad.log.add("acct-0", opened, 3);  // version 2 is missing
  const Violation v = only(bad.check("stream_versions_contiguous"), "stream_versions_contiguous");
  EXPECT_EQ(v.summary, "acct-0 has version 3 where 2 belongs");
  EXPECT_TRUE(cites(v, 1));
  EXPECT_TRUE(cites(v, 2));

  HandBuiltRun good("bank");
  good.log.add("acct-0", opened);
  good.log.add("acct-0", opened);
  good.log.add("acct-1", opened);
  EXPECT_TRUE(good.check("stream_versions_contiguous").empty());
}

TEST(GlobalPositionsMonotonic, APositionUsedTwiceAndAPositionGoingBackAreReported) {
  HandBuiltRun twice("bank");
  const NewEvent opened =
      decided(*twice.domain, model::domains::BankAccount{}, command(*twice.domain, "open"));
  twice.log.add("acct-0", opened, 1, 5);
  twice.log.add("acct-1", opened, 1, 5);
  const Violation v = only(twice.check("global_positions_monotonic"), "global_positions_monotonic");
  EXPECT_EQ(v.summary, "position 5 is used twice");
  EXPECT_EQ(v.evidence.size(), 2U);

  HandBuiltRun back("bank");
  back.log.add("acct-0", opened, 1, 7);
  back.log.add("acct-0", opened, 2, 3);  // a later version at an earlier position
  const Violation w = only(back.check("global_positions_monotonic"), "global_positions_monotonic");
  EXPECT_EQ(w.summary, "acct-0: a later version has an earlier position");
  EXPECT_TRUE(cites(w, 7));
  EXPECT_TRUE(cites(w, 3));

  HandBuiltRun good("bank");
  good.log.add("acct-0", opened);
  good.log.add("acct-1", opened);
  good.log.add("acct-0", opened);
  EXPECT_TRUE(good.check("global_positions_monotonic").empty());
}

TEST(LogIntegrity, ACorruptLogIsReportedWithWhereItBroke) {
  HandBuiltRun bad("bank");
  const NewEvent opened =
      decided(*bad.domain, model::domains::BankAccount{}, command(*bad.domain, "open"));
  bad.log.add("acct-0", opened);
  bad.log.log().status = model::LogScan::Status::kCorrupt;
  bad.log.log().problem = "bad CRC at offset 40";
  bad.log.log().valid_bytes = 40;
  const Violation v = only(bad.check("log_integrity"), "log_integrity");
  EXPECT_NE(v.summary.find("bad CRC at offset 40"), std::string::npos);
  ASSERT_EQ(v.evidence.size(), 1U);
  EXPECT_EQ(v.evidence.front(), "40 valid bytes, 1 commits before the bad record");

  // A torn tail is what a crash leaves; recovery cuts it: not corruption.
  HandBuiltRun torn("bank");
  torn.log.add("acct-0", opened);
  torn.log.log().status = model::LogScan::Status::kTornTail;
  EXPECT_TRUE(torn.check("log_integrity").empty());
}

TEST(BehindIn, NamesTheFirstStreamAnAnswerLacks) {
  const model::Versions served{{"a", 3}, {"b", 5}};
  EXPECT_EQ(model::behind_in({{"a", 3}, {"b", 5}, {"c", 1}}, served), std::nullopt);
  EXPECT_EQ(model::behind_in({{"a", 4}, {"b", 4}}, served), "b");
  EXPECT_EQ(model::behind_in({{"b", 9}}, served), "a");  // a stream it has never seen
  EXPECT_EQ(model::behind_in({}, {}), std::nullopt);
}

TEST(RebuildNeverGoesBack, AnAnswerAfterTheCutOverBehindWhatWasServedIsReported) {
  model::RebuildLog log;
  log.live_served = 3;
  log.live_max = {{"acct-0", 4}, {"acct-1", 2}};
  log.cut_over_at_us = 3'000'000;
  log.rebuilt_served = 2;
  log.first_rebuilt = {{3'000'000, {{"acct-0", 4}, {"acct-1", 2}}, 6},
                       {3'010'000, {{"acct-0", 4}, {"acct-1", 1}}, 5}};
  HandBuiltRun run("bank");
  RebuildView r;
  r.live = "balances";
  r.worker = "balances-v2";
  r.log = &log;
  r.started_at_us = 2'000'000;
  run.rebuilds = {r};
  const Violation v = only(run.check("rebuild_never_goes_back"), "rebuild_never_goes_back");
  EXPECT_EQ(v.summary,
            "a query at 3.01s saw balances go back across the cut-over: stream acct-1 at "
            "version 1, after balances had served version 2");
  // Every answer at least at what was served: nothing to report.
  log.first_rebuilt.pop_back();
  EXPECT_TRUE(run.check("rebuild_never_goes_back").empty());
}

TEST(RebuildMatchesLive, ARebuildThatFellBehindOrNeverCutOverIsReported) {
  model::RebuildLog log;
  HandBuiltRun run("bank");
  RebuildView r;
  r.live = "balances";
  r.worker = "balances-v2";
  r.log = &log;
  r.started_at_us = 2'000'000;
  r.live_caught_up = true;
  r.rebuilt_through = 41;
  r.gap = "stream acct-3 version 7";
  run.rebuilds = {r};
  run.quiet = false;
  Violation v = only(run.check("rebuild_matches_live"), "rebuild_matches_live");
  EXPECT_EQ(v.summary,
            "the rebuild of balances fell behind for good: the live projection handled the whole "
            "store, the rebuild (balances-v2) only through position 41");
  ASSERT_EQ(v.evidence.size(), 2U);
  EXPECT_EQ(v.evidence[0], "its worker waits for stream acct-3 version 7, which never came");
  // Both still catching up when the run ended: projections_converge's to say.
  run.rebuilds[0].live_caught_up = false;
  EXPECT_TRUE(run.check("rebuild_matches_live").empty());
  // Settled without a cut-over.
  run.quiet = true;
  run.rebuilds[0].caught_up = true;
  v = only(run.check("rebuild_matches_live"), "rebuild_matches_live");
  EXPECT_EQ(v.summary, "the rebuild of balances never cut over");
}

TEST(NoLostAcknowledgedEvents, AnAcknowledgedPositionMissingFromTheLogIsReported) {
  HandBuiltRun bad("bank");
  const NewEvent opened =
      decided(*bad.domain, model::domains::BankAccount{}, command(*bad.domain, "open"));
  bad.log.add("acct-0", opened);
  const std::uint64_t op = bad.history.invoke(0, 0, "open", "acct-1", model::CommandId{9, 9});
  bad.history.complete(op, model::HistoryEntry::Type::kOk, 10, "", 2, 1, 1);
  const Violation v = only(bad.check("no_lost_acknowledged_events"), "no_lost_acknowledged_events");
  EXPECT_EQ(v.summary, "position 2 of acct-1 was acknowledged but is not in the store");
  EXPECT_TRUE(cites(v, 2));

  HandBuiltRun good("bank");
  good.log.add("acct-0", opened);
  good.log.add("acct-1", opened);
  const std::uint64_t op2 = good.history.invoke(0, 0, "open", "acct-1", model::CommandId{9, 9});
  good.history.complete(op2, model::HistoryEntry::Type::kOk, 10, "", 2, 1, 1);
  EXPECT_TRUE(good.check("no_lost_acknowledged_events").empty());
}

// The bytes of a log holding the first `count` commits of `log`.
model::Bytes log_bytes(const model::StoreLog& log, std::size_t count) {
  model::Bytes out;
  std::uint64_t hash = 0;
  for (std::size_t i = 0; i < count; ++i) {
    model::Bytes body;
    model::encode_commit(log.commits.at(i), body);
    hash = model::append_record(out, hash, body);
  }
  return out;
}

// A run whose log holds three opened accounts (positions 1..3) and whose
// backup, asked for at 20 us, holds the first two, durable when it completed.
HandBuiltRun backed_up() {
  HandBuiltRun run("bank");
  const NewEvent opened =
      decided(*run.domain, model::domains::BankAccount{}, command(*run.domain, "open"));
  for (const char* stream : {"acct-0", "acct-1", "acct-2"}) run.log.add(stream, opened);
  model::Backup b;
  b.requested_at_us = b.began_at_us = 20;
  b.done_at_us = 30;
  b.bytes = log_bytes(run.log.log(), 2);
  b.durable_at_fix = b.durable_at_done = b.bytes.size();
  run.backups.backups.push_back(b);
  // Acknowledged before the backup began: position 2.
  const std::uint64_t op = run.history.invoke(0, 0, "open", "acct-1", model::CommandId{9, 9});
  run.history.complete(op, model::HistoryEntry::Type::kOk, 10, "", 2, 1, 1);
  return run;
}

TEST(BackupConsistent, ACommittedPrefixHoldingEveryEarlierAckPasses) {
  HandBuiltRun good = backed_up();
  EXPECT_TRUE(good.check("backup_consistent").empty());
  // A backup that never completed is not judged.
  good.backups.backups.front().done_at_us.reset();
  good.backups.backups.front().bytes.resize(5);
  EXPECT_TRUE(good.check("backup_consistent").empty());
}

TEST(BackupConsistent, ATornTailUncommittedBytesAForeignCommitAndAMissedAckAreReported) {
  HandBuiltRun torn = backed_up();
  torn.backups.backups.front().bytes.resize(torn.backups.backups.front().bytes.size() - 3);
  Violation v = only(torn.check("backup_consistent"), "backup_consistent");
  EXPECT_EQ(v.summary,
            "the backup asked for at 0.00002s does not end at a record boundary: it ends in a "
            "torn record");

  HandBuiltRun uncommitted = backed_up();
  uncommitted.backups.backups.front().durable_at_done -= 1;
  v = only(uncommitted.check("backup_consistent"), "backup_consistent");
  EXPECT_EQ(v.summary,
            "the backup asked for at 0.00002s holds 1 byte(s) the store's log did not hold "
            "durably when it completed at 0.00003s: appends not yet committed");
  EXPECT_TRUE(cites(v, 2));
  // Durable by the time it completed, but not when its end was fixed.
  HandBuiltRun early = backed_up();
  early.backups.backups.front().durable_at_fix -= 2;
  v = only(early.check("backup_consistent"), "backup_consistent");
  EXPECT_EQ(v.summary,
            "the backup asked for at 0.00002s holds 2 byte(s) past what the store's log held "
            "durably when the backup's end was fixed: appends not yet committed");

  // The backup holds a commit the log does not have in that place.
  HandBuiltRun foreign = backed_up();
  HandBuiltRun other("bank");
  const NewEvent opened =
      decided(*other.domain, model::domains::BankAccount{}, command(*other.domain, "open"));
  other.log.add("acct-0", opened);
  other.log.add("acct-9", opened);
  foreign.backups.backups.front().bytes = log_bytes(other.log.log(), 2);
  foreign.backups.backups.front().durable_at_done = foreign.backups.backups.front().bytes.size();
  foreign.backups.backups.front().durable_at_fix = foreign.backups.backups.front().bytes.size();
  v = only(foreign.check("backup_consistent"), "backup_consistent");
  EXPECT_EQ(v.summary,
            "the backup asked for at 0.00002s is not a prefix of the store's log: its commit 2 "
            "(position 2 (acct-9 v1)) is not the log's");

  // Position 3 was acknowledged at 15 us, before the backup began at 20 us.
  HandBuiltRun missed = backed_up();
  const std::uint64_t op = missed.history.invoke(1, 0, "open", "acct-2", model::CommandId{9, 10});
  missed.history.complete(op, model::HistoryEntry::Type::kOk, 15, "", 3, 1, 1);
  v = only(missed.check("backup_consistent"), "backup_consistent");
  EXPECT_EQ(v.summary,
            "the backup asked for at 0.00002s misses position 3 of acct-2, acknowledged at "
            "0.000015s before the backup began at 0.00002s");
  EXPECT_TRUE(cites(v, 3));
  // Acknowledged only after the backup began: it need not be there.
  HandBuiltRun later = backed_up();
  const std::uint64_t op2 = later.history.invoke(1, 0, "open", "acct-2", model::CommandId{9, 10});
  later.history.complete(op2, model::HistoryEntry::Type::kOk, 25, "", 3, 1, 1);
  EXPECT_TRUE(later.check("backup_consistent").empty());
}

TEST(RestoreReplaysClean, ALostBackupCommitALostAckAndADifferentProjectionAreReported) {
  HandBuiltRun run = backed_up();
  const auto found = model::Registry::builtin().handler("bank.balances");
  ASSERT_TRUE(found.has_value());
  const model::ProjectionHandler* balances = found->handler;
  // The restored store kept the backup and a client's append after it.
  RestoreView r;
  r.ran = true;
  r.at_us = 40;
  r.backup = &run.backups.backups.front();
  r.log = model::read_store_log(log_bytes(run.log.log(), 3));
  model::History restored_history;
  const std::uint64_t op = restored_history.invoke(4, 41, "open", "acct-2", model::CommandId{8, 1});
  restored_history.complete(op, model::HistoryEntry::Type::kOk, 50, "", 3, 1, 1);
  r.history = &restored_history;
  model::ProjectionState state;
  std::vector<Event> events;
  for (const model::CommitRecord& c : r.log.commits) events.push_back(c.events.front());
  model::call_handler_all(*balances, state.model, events);
  r.workers.push_back({"balances-restored", balances, &state, nullptr});
  run.restore = r;
  EXPECT_TRUE(run.check("restore_replays_clean").empty());

  // It lost the backup's second commit (and with it what its client saw acknowledged).
  HandBuiltRun lost = backed_up();
  RestoreView lr = r;
  lr.backup = &lost.backups.backups.front();
  lr.log = model::read_store_log(log_bytes(lost.log.log(), 1));
  lr.workers.clear();
  lost.restore = lr;
  const auto violations = lost.check("restore_replays_clean");
  ASSERT_EQ(violations.size(), 2U);
  EXPECT_EQ(violations[0].summary,
            "the store restored at 0.00004s from backup 1 lost the backup's commit 2 (position "
            "2 (acct-1 v1))");
  EXPECT_EQ(violations[1].summary,
            "the store restored at 0.00004s from backup 1 lost position 3 of acct-2, "
            "acknowledged to its client");

  // A projection built from it that differs from a clean replay.
  model::ProjectionState wrong;
  run.restore->workers.front().state = &wrong;
  const Violation v = only(run.check("restore_replays_clean"), "restore_replays_clean");
  EXPECT_TRUE(
      v.summary.starts_with("the store restored at 0.00004s from backup 1: "
                            "balances-restored, built from it, differs from a clean "
                            "replay of its log"))
      << v.summary;
}

// ---- forgetting a person ----

// customer-1 forgotten (its key was 32 bytes of 7), "Ada 00c0ff" and
// "ada@example.org" sealed for it; the places hold nothing of it.
HandBuiltRun forgotten_customer(model::PersonalLedger& ledger) {
  HandBuiltRun run("customers");
  ledger.sealed["customer-1"] = {"Ada 00c0ff", "ada@example.org", "Ada"};
  ledger.sealed["customer-2"] = {"Grace 123456"};
  ledger.forgotten.push_back({"customer-1", 1'000'000, model::Bytes(32, 7)});
  PersonalView p;
  p.ledger = &ledger;
  p.asked = {{"customer-1", 900'000}};
  const std::string token =
      model::seal_value("customer-1", model::Bytes(32, 7), model::EventId{1, 1}, 0, "Ada 00c0ff");
  p.places = {{"store/events.log", model::Bytes(token.begin(), token.end())},
              {"keys/keys.state", model::Bytes(40, 1)},
              // Another customer's plaintext, and a short value by chance: not findings.
              {"the read model of directory", model::Bytes{'G', 'r', 'a', 'c', 'e', ' ', '1', '2',
                                                           '3', '4', '5', '6', 'A', 'd', 'a'}}};
  run.personal = std::move(p);
  return run;
}

TEST(ForgottenSubjectsAbsent, SealedCopiesAndOtherSubjectsDataPass) {
  model::PersonalLedger ledger;
  HandBuiltRun good = forgotten_customer(ledger);
  EXPECT_TRUE(good.check("forgotten_subjects_absent").empty());
  // A domain without personal data has nothing to check.
  good.personal.reset();
  EXPECT_TRUE(good.check("forgotten_subjects_absent").empty());
}

TEST(ForgottenSubjectsAbsent, PlaintextAKeptKeyAndAForgetNeverDoneAreReported) {
  model::PersonalLedger ledger;
  HandBuiltRun leaked = forgotten_customer(ledger);
  const std::string plain = "entry: ada@example.org;";
  leaked.personal->places[2].bytes.assign(plain.begin(), plain.end());
  Violation v = only(leaked.check("forgotten_subjects_absent"), "forgotten_subjects_absent");
  EXPECT_EQ(v.summary,
            "the read model of directory holds personal data of customer-1 in plaintext after "
            "customer-1 was forgotten at 1s");
  ASSERT_FALSE(v.evidence.empty());
  EXPECT_EQ(v.evidence[0],
            "value 3 of the 3 sealed for customer-1 (15 bytes; not shown here), "
            "at byte 7 of 23");
  for (const std::string& line : v.evidence) EXPECT_EQ(line.find("ada@"), std::string::npos);
  // Where it came from and where it lies in the read model, when known.
  ledger.origins["ada@example.org"] = "CustomerRegistered, personal value 2";
  const model::ReadModel directory{
      {"customer-1", Value::Map{{"email", "ada@example.org"}, {"version", 1}}}};
  leaked.personal->places[2].model = &directory;
  v = only(leaked.check("forgotten_subjects_absent"), "forgotten_subjects_absent");
  EXPECT_EQ(v.evidence[0],
            "the value of CustomerRegistered, personal value 2 (15 bytes; not shown here), at "
            "[\"customer-1\"][\"email\"]");

  model::PersonalLedger kept_ledger;
  HandBuiltRun kept = forgotten_customer(kept_ledger);
  kept.personal->places[1].bytes.insert(kept.personal->places[1].bytes.begin() + 3, 32, 7);
  v = only(kept.check("forgotten_subjects_absent"), "forgotten_subjects_absent");
  EXPECT_EQ(v.summary, "the key of customer-1, deleted at 1s, is still in keys/keys.state");

  model::PersonalLedger never_ledger;
  HandBuiltRun never = forgotten_customer(never_ledger);
  never_ledger.forgotten.clear();
  never.personal->asked.push_back({"customer-2", 2'000'000});
  const auto violations = never.check("forgotten_subjects_absent");
  ASSERT_EQ(violations.size(), 2U);
  EXPECT_EQ(violations[0].summary,
            "customer-1 was to be forgotten at 0.9s, and the key store never did");
}

TEST(ForgottenSubjectsAbsent, AnyByteIsSearchedAndTokenHexIsNotPlaintext) {
  // A key with bytes >= 0x80 (as nearly every random key has) and a UTF-8
  // name are found byte for byte.
  model::PersonalLedger ledger;
  HandBuiltRun run = forgotten_customer(ledger);
  ledger.forgotten[0].key = model::Bytes(32, 0xa7);
  ledger.sealed["customer-1"].insert("Zo\xc3\xab M\xc3\xbcller");
  run.personal->places[1].bytes.insert(run.personal->places[1].bytes.end(), 32, 0xa7);
  Violation v = only(run.check("forgotten_subjects_absent"), "forgotten_subjects_absent");
  EXPECT_EQ(v.summary, "the key of customer-1, deleted at 1s, is still in keys/keys.state");
  model::PersonalLedger utf8_ledger;
  HandBuiltRun utf8 = forgotten_customer(utf8_ledger);
  utf8_ledger.sealed["customer-1"].insert("Zo\xc3\xab M\xc3\xbcller");
  const std::string plain = "[Zo\xc3\xab M\xc3\xbcller]";
  utf8.personal->places[2].bytes.assign(plain.begin(), plain.end());
  v = only(utf8.check("forgotten_subjects_absent"), "forgotten_subjects_absent");
  EXPECT_EQ(v.summary.find("the read model of directory holds personal data of customer-1"), 0U);

  // A value of digits only, found inside a token's hex, is not a copy.
  model::PersonalLedger digits_ledger;
  HandBuiltRun digits = forgotten_customer(digits_ledger);
  const std::string token =
      model::seal_value("customer-1", model::Bytes(32, 7), model::EventId{5, 5}, 0, "Ada 00c0ff");
  const std::size_t from = token.rfind('.') + 1;
  std::string run_of_digits;
  for (std::size_t i = from; i < token.size() && run_of_digits.size() < 6; ++i) {
    if (token[i] >= '0' && token[i] <= '9') {
      run_of_digits += token[i];
    } else {
      run_of_digits.clear();
    }
  }
  if (run_of_digits.size() < 6) run_of_digits = token.substr(from, 6);
  digits_ledger.sealed["customer-1"].insert(run_of_digits);
  digits.personal->places[0].bytes.assign(token.begin(), token.end());
  EXPECT_TRUE(digits.check("forgotten_subjects_absent").empty());
}

TEST(ForgottenSubjectsAbsent, AnUnsealedOrMisSealedValueInTheLogIsReported) {
  const auto event = [](const model::Domain& customers, const std::string& stream,
                        const std::function<std::string(const std::string&)>& seal) {
    const Command c{"register", stream, [] {
                      model::Bytes out;
                      essim::Writer w(out);
                      w.string("Ada 00c0ff");
                      w.string("ada@example.org");
                      return out;
                    }()};
    NewEvent e = decided(customers, model::domains::Customer{}, c);
    Event raw;
    raw.stream = stream;
    raw.type = e.type;
    raw.payload = e.payload;
    e.payload = model::rewrite_personal(*model::PersonalIndex(customers).find(e.type), raw, seal);
    return e;
  };
  const model::Bytes key(32, 9);
  model::PersonalLedger ledger;
  HandBuiltRun sealed = forgotten_customer(ledger);
  std::uint32_t field = 0;
  sealed.log.add("customer-1", event(*sealed.domain, "customer-1", [&](const std::string& v) {
                   return model::seal_value("customer-1", key, model::EventId{1, 1}, field++, v);
                 }));
  sealed.log.add("customer-3", event(*sealed.domain, "customer-3", [](const std::string&) {
                   return std::string(essim::kForgotten);
                 }));
  EXPECT_TRUE(sealed.check("forgotten_subjects_absent").empty());

  model::PersonalLedger plain_ledger;
  HandBuiltRun plain = forgotten_customer(plain_ledger);
  plain.log.add("customer-1",
                event(*plain.domain, "customer-1", [](const std::string& v) { return v; }));
  Violation v = only(plain.check("forgotten_subjects_absent"), "forgotten_subjects_absent");
  EXPECT_EQ(
      v.summary,
      "an event of CustomerRegistered in the store's log holds personal data no forget can "
      "reach: personal value 1 is not sealed (10 bytes): rewrite must return every value as seal "
      "gives it back, in a string field");
  EXPECT_TRUE(cites(v, 1));

  model::PersonalLedger other_ledger;
  HandBuiltRun other = forgotten_customer(other_ledger);
  field = 0;
  other.log.add("customer-1", event(*other.domain, "customer-1", [&](const std::string& value) {
                  return model::seal_value("customer-2", key, model::EventId{1, 1}, field++, value);
                }));
  v = only(other.check("forgotten_subjects_absent"), "forgotten_subjects_absent");
  EXPECT_EQ(v.summary,
            "an event of CustomerRegistered in the store's log holds personal data no forget can "
            "reach: personal value 1 is sealed for another subject than the one subject() names "
            "for the event as stored (subject() must not read a personal field: use an opaque id "
            "such as the stream)");
}

TEST(ForgottenSubjectsAbsent, EvidenceIsRedactedAndItsLeakReported) {
  model::PersonalLedger ledger;
  HandBuiltRun run = forgotten_customer(ledger);
  const std::string token =
      model::seal_value("customer-2", model::Bytes(32, 1), model::EventId{2, 2}, 0, "Grace 123456");
  const std::string forgotten =
      model::seal_value("customer-1", model::Bytes(32, 7), model::EventId{2, 3}, 0, "Ada 00c0ff");
  std::vector<Violation> violations{{"snapshot_equivalence",
                                     "state name Ada 00c0ff, email " + token,
                                     {"was Ada 00c0ff", "name " + forgotten + "."},
                                     {}},
                                    {"no_overdraft", "nothing personal: Ada", {}, {}}};
  redact_forgotten(violations, *run.personal);
  ASSERT_EQ(violations.size(), 3U);
  EXPECT_EQ(violations[0].summary, "state name [forgotten], email <sealed: customer-2>");
  EXPECT_EQ(violations[0].evidence[0], "was [forgotten]");
  EXPECT_EQ(violations[0].evidence[1], "name <forgotten: customer-1>.");
  EXPECT_EQ(violations[1].summary, "nothing personal: Ada");  // shorter than kPersonalValueMin
  EXPECT_EQ(violations[2].property, "forgotten_subjects_absent");
  EXPECT_EQ(violations[2].summary,
            "the evidence of snapshot_equivalence showed personal data of customer-1 after it "
            "was forgotten (redacted there)");
}

TEST(NoDuplicateCommands, OneCommandAppendedTwiceIsReported) {
  HandBuiltRun bad("bank");
  const NewEvent opened =
      decided(*bad.domain, model::domains::BankAccount{}, command(*bad.domain, "open"));
  bad.log.add("acct-0", opened);
  bad.log.add("acct-0", opened);
  // The second append carries the first one's correlation id: a retry that
  // lost its command id.
  auto& commits = bad.log.log().commits;
  commits[1].events[0].metadata.correlation_id = commits[0].events[0].metadata.correlation_id;
  const Violation v = only(bad.check("no_duplicate_commands"), "no_duplicate_commands");
  EXPECT_NE(v.summary.find("appended 2 times"), std::string::npos);
  EXPECT_TRUE(cites(v, 1));
  EXPECT_TRUE(cites(v, 2));

  HandBuiltRun good("bank");
  good.log.add("acct-0", opened);
  good.log.add("acct-0", opened);
  EXPECT_TRUE(good.check("no_duplicate_commands").empty());
}

TEST(ProjectionsConverge, NotSettlingIsReportedWithHowTheHealPhaseEnded) {
  HandBuiltRun bad("bank");
  bad.quiet = false;
  const Violation v = only(bad.check("projections_converge"), "projections_converge");
  EXPECT_EQ(v.evidence.front(), "heal phase ended: time-bound at 60s");
  HandBuiltRun good("bank");
  EXPECT_TRUE(good.check("projections_converge").empty());
}

// ---- bank ----

TEST(MoneyConserved, ADebitNeverCreditedNorRefundedIsReported) {
  HandBuiltRun bad("bank");
  const Command debit = transfer_step(1);
  const Command credit = transfer_step(2);
  const NewEvent debited = decided(*bad.domain, open_account(1'000'000), debit);
  const NewEvent credited = decided(*bad.domain, open_account(0), credit);
  ASSERT_EQ(debited.type, "FundsDebited");
  ASSERT_EQ(credited.type, "FundsCredited");
  const Event e = bad.log.add(debit.stream, debited);
  const std::int64_t amount = model::domains::event_amount(e);
  ASSERT_GT(amount, 0);
  const Violation v = only(bad.check("money_conserved"), "money_conserved");
  EXPECT_NE(v.summary.find(fmt::format("{} debited, 0 credited, 0 refunded", amount)),
            std::string::npos)
      << v.summary;
  EXPECT_NE(v.summary.find("vanished"), std::string::npos);

  // Still in flight when the run did not settle: not a leak.
  bad.quiet = false;
  EXPECT_TRUE(bad.check("money_conserved").empty());

  HandBuiltRun good("bank");
  good.log.add(debit.stream, debited);
  good.log.add(credit.stream, credited);
  EXPECT_TRUE(good.check("money_conserved").empty());
  HandBuiltRun refunded("bank");
  refunded.log.add(debit.stream, debited);
  model::domains::BankAccount after_debit = open_account(0);
  after_debit.transfers.add(model::domains::event_transfer(e), 1);
  refunded.log.add(debit.stream, decided(*good.domain, after_debit, transfer_step(1, true)));
  EXPECT_TRUE(refunded.check("money_conserved").empty());
}

TEST(NoOverdraft, AWithdrawalBelowZeroIsReportedWithTheState) {
  HandBuiltRun bad("bank");
  const NewEvent opened =
      decided(*bad.domain, model::domains::BankAccount{}, command(*bad.domain, "open"));
  const NewEvent withdrawn =
      decided(*bad.domain, open_account(1'000'000), command(*bad.domain, "withdraw"));
  ASSERT_EQ(withdrawn.type, "FundsWithdrawn");
  bad.log.add("acct-0", opened);
  const Event e = bad.log.add("acct-0", withdrawn);
  const Violation v = only(bad.check("no_overdraft"), "no_overdraft");
  EXPECT_EQ(v.summary, "acct-0: no account's balance ever goes below zero does not hold");
  EXPECT_TRUE(cites(v, e.position));

  HandBuiltRun good("bank");
  good.log.add("acct-0", opened);
  EXPECT_TRUE(good.check("no_overdraft").empty());
}

TEST(SagasComplete, ATransferThatNeverEndsIsReported) {
  HandBuiltRun bad("bank");
  const Command request = transfer_step(0);
  const NewEvent requested = decided(*bad.domain, model::domains::BankAccount{}, request);
  bad.log.add(request.stream, requested);
  const Violation v = only(bad.check("sagas_complete"), "sagas_complete");
  EXPECT_NE(v.summary.find(request.stream + " never finished"), std::string::npos) << v.summary;

  HandBuiltRun good("bank");
  good.log.add(request.stream, requested);
  model::domains::BankAccount after_request;
  after_request.transfer_status = 1;
  good.log.add(request.stream, decided(*good.domain, after_request, transfer_step(4)));
  EXPECT_TRUE(good.check("sagas_complete").empty());
}

// ---- inventory ----

TEST(NoOversell, AReservationBeyondTheStockIsReported) {
  HandBuiltRun bad("inventory");
  model::domains::Sku stocked;
  stocked.stock = 1'000'000;
  const Command reserve = command(*bad.domain, "reserve");
  const NewEvent reserved = decided(*bad.domain, stocked, reserve);
  const Event e = bad.log.add(reserve.stream, reserved);  // nothing in stock
  const Violation v = only(bad.check("no_oversell"), "no_oversell");
  EXPECT_EQ(v.summary,
            reserve.stream + ": no SKU ever has more reserved than in stock does not hold");
  EXPECT_TRUE(cites(v, e.position));

  HandBuiltRun good("inventory");
  const NewEvent restocked =
      decided(*good.domain, model::domains::Sku{}, command(*good.domain, "restock"));
  // Enough restocks to cover the reservation, then the reservation.
  for (int i = 0; i < 100; ++i) good.log.add(reserve.stream, restocked);
  good.log.add(reserve.stream, reserved);
  EXPECT_TRUE(good.check("no_oversell").empty());
}

}  // namespace
}  // namespace essim::properties
