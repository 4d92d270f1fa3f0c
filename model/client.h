#pragma once
// A client node: runs the workload as deciders. For each command it loads the
// aggregate (latest snapshot plus the events after it), decides, and appends
// with the expected version and a command id. It retries a timed-out request
// with the same command id, and a conflict by loading and deciding again;
// both are bounded. Work that spans aggregates runs as a saga whose progress
// is journaled on the client's disk, so a restarted client finishes it.
//
// Every operation leaves invoke and ok/fail/info entries in the History.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/bugs.h"
#include "model/domain.h"
#include "model/history.h"
#include "model/messages.h"
#include "model/personal.h"
#include "model/user_code.h"
#include "sim/env.h"

namespace essim::model {

// One piece of work a client started: the workload as a recorded decision.
struct PlannedWork {
  std::uint32_t client = 0;
  Micros at_us = 0;  // the tick it started at
  std::string kind;
  std::uint64_t seed = 0;  // the generator's seed for it
  friend auto operator<=>(const PlannedWork&, const PlannedWork&) = default;
};

// Kept outside the clients (like the History): records the work they start,
// or, when scripted, tells them exactly which work to start at which tick.
class WorkLog {
 public:
  void script(std::vector<PlannedWork> work);
  bool scripted() const { return scripted_; }
  // The scripted work of `client` at `at_us`, or nullptr.
  const PlannedWork* find(std::uint32_t client, Micros at_us) const;
  void record(const PlannedWork& work) { recorded_.push_back(work); }
  const std::vector<PlannedWork>& recorded() const { return recorded_; }

 private:
  bool scripted_ = false;
  std::vector<PlannedWork> script_;  // sorted by (client, at_us)
  std::vector<PlannedWork> recorded_;
};

struct ClientConfig {
  sim::NodeId store = sim::kNoNode;
  const Domain* domain = nullptr;
  std::uint32_t index = 0;  // the client's number in the history
  std::vector<WorkWeight> mix;
  Micros interval_us = 10'000;  // one new operation per interval at most
  Micros start_at_us = 0;       // no operations before then
  Micros stop_at_us = 0;        // no new operations from then on
  Micros request_timeout_us = 100'000;
  std::uint32_t max_timeouts = 6;    // per command
  std::uint32_t max_conflicts = 8;   // per command
  std::uint64_t snapshot_every = 0;  // save a snapshot every N versions (0: never)
  History* history = nullptr;
  WorkLog* work_log = nullptr;            // optional
  UserFailures* user_failures = nullptr;  // optional: where a throw of user code is recorded
  // The key store, when the domain declares personal data: the client seals
  // it with its subject's key, asked for each command, before appending (a
  // subject already forgotten is written as kForgotten), and records every
  // personal value it decided in `ledger` (the oracle's).
  sim::NodeId keys = sim::kNoNode;
  PersonalLedger* ledger = nullptr;  // optional
  Bugs bugs;
};

inline constexpr std::string_view kSagaJournalFile = "saga.journal";

class ClientNode final : public sim::Node {
 public:
  explicit ClientNode(ClientConfig config);
  ~ClientNode() override;

  void on_start(sim::Env& env) override;
  void on_message(sim::Env& env, const sim::Message& message) override;

  // Nothing in progress (no command, no saga).
  bool idle() const;

 private:
  struct Outcome {
    HistoryEntry::Type type = HistoryEntry::Type::kOk;
    std::string detail;
    std::uint64_t first_position = 0;
    std::uint64_t stream_version = 0;
    std::uint32_t events = 0;
    bool decided = false;              // the decider's own answer (see HistoryEntry::decided)
    std::vector<NewEvent> appended{};  // a saga step's, when ok
  };
  struct Exec;
  struct SagaRun;

  void tick(sim::Env& env);
  void start_work(sim::Env& env);
  void start_command(sim::Env& env, const Command& command, const CommandId& id,
                     const std::string& kind);
  void load(sim::Env& env);
  void read_stream(sim::Env& env, std::uint64_t from_version);
  void decide(sim::Env& env);
  // Asks for the first missing key of the decided events' subjects, or,
  // with every key known, seals their personal data and appends.
  void seal_and_append(sim::Env& env);
  void record_personal(const std::vector<Event>& events);
  void send_append(sim::Env& env);
  void send_current(sim::Env& env);
  void arm_timeout(sim::Env& env);
  void on_timeout(sim::Env& env, std::uint64_t request_id);
  void on_reply(sim::Env& env, const Message& message);
  void finish(sim::Env& env, const Outcome& outcome);

  void start_saga(sim::Env& env, Saga saga);
  void run_saga_step(sim::Env& env);
  void on_saga_step(sim::Env& env, const Outcome& outcome);
  void on_confirm(sim::Env& env, const ReadStreamReply& reply);
  // Asks the domain for a next step once the listed ones are done; false
  // when there is none (or the saga has kSagaStepsMax steps).
  bool plan_next_step();
  void retry_saga_step(sim::Env& env);
  void end_saga(sim::Env& env, HistoryEntry::Type type, std::string detail);
  // False when the node fail-stopped: the caller returns at once.
  [[nodiscard]] bool save_journal(sim::Env& env);
  // False when the node fail-stopped (no read of the journal could be trusted).
  [[nodiscard]] bool load_journal(sim::Env& env);

  ClientConfig config_;
  std::unique_ptr<Exec> exec_;
  std::unique_ptr<SagaRun> saga_;
  std::uint64_t next_request_id_ = 1;
  KnownEvents known_;  // the domain's event types, asked at start
  PersonalIndex personal_;
  Bytes scratch_;
};

}  // namespace essim::model
