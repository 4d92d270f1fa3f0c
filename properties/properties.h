#pragma once
// Properties: named checks over a finished run. Each returns the violations it
// found, each with evidence a person can read (the events, positions and
// history entries involved), never a dump. A property never changes a run.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/audit.h"
#include "model/backup.h"
#include "model/domain.h"
#include "model/history.h"
#include "model/messages.h"
#include "model/personal.h"
#include "model/projection.h"
#include "model/router.h"
#include "model/store.h"
#include "model/user_code.h"

namespace essim::properties {

struct Violation {
  std::string property{};
  std::string summary{};
  std::vector<std::string> evidence{};     // a few lines: events, history entries
  std::vector<std::uint64_t> positions{};  // the events cited, for viewers to highlight
};

struct ProjectionView {
  std::string name;
  const model::ProjectionHandler* handler = nullptr;
  const model::ProjectionState* state = nullptr;  // nullptr: the node is down
  // What its read-model rules found at checkpoints (ReadModelInvariant::at_checkpoints).
  const std::vector<model::ReadModelFinding>* checkpoint_findings = nullptr;
};

// A projection rebuilt during the run (an `operations:` rebuild that ran).
struct RebuildView {
  std::string live;    // the projection it rebuilds
  std::string worker;  // the rebuilding worker's node
  const model::ProjectionHandler* handler = nullptr;
  const model::ProjectionState* state = nullptr;  // the worker's; nullptr: it is down
  const model::RebuildLog* log = nullptr;         // what its router served
  sim::Micros started_at_us = 0;
  // Its bus delivered and had acknowledged every event of the final store.
  bool caught_up = false;
  // The live projection had: the rebuild fell behind it.
  bool live_caught_up = false;
  std::uint64_t rebuilt_through = 0;  // every position up to here acknowledged by the rebuild
  std::string gap;  // where the rebuild's worker waits ("stream acct-3 version 7"), if it does
};

// What an audit operation found, and when.
struct AuditRecord {
  sim::Micros at_us = 0;
  model::AuditReport report;
};

// The restore drill (an `operations:` restore), as the run left it.
struct RestoreView {
  bool ran = false;  // a backup was put on the fresh store
  sim::Micros at_us = 0;
  const model::Backup* backup = nullptr;    // the backup it restored
  std::size_t backup_number = 0;            // its place among the backups (from 0)
  model::StoreLog log;                      // the restored store's log as on disk
  std::vector<ProjectionView> workers;      // the projections built from it
  const model::History* history = nullptr;  // its client's
  std::string gave_up;                      // why it never ran
};

// Personal data and forgetting it (a domain that declares personal data).
struct PersonalView {
  const model::PersonalLedger* ledger = nullptr;  // what was sealed, and forgotten
  struct Asked {
    std::string subject;
    sim::Micros at_us = 0;
  };
  std::vector<Asked> asked;  // the forget operations that ran
  // Where a forgotten subject's data may linger once the heal phase ended:
  // every file on every node's disk ("store/snapshots.log"), and every
  // worker's read model in memory.
  struct Place {
    std::string name;
    model::Bytes bytes;
    const model::ReadModel* model = nullptr;  // a read model's: where a value lies in it
  };
  std::vector<Place> places;
};

// Values shorter than this are not searched for (they would be found by chance).
inline constexpr std::size_t kPersonalValueMin = 6;

// What a finished run leaves for the properties to look at.
struct RunView {
  const model::Domain* domain = nullptr;
  const model::History* history = nullptr;
  const model::StoreLog* log = nullptr;        // the store's log as on disk
  std::vector<model::SnapshotSave> snapshots;  // the store's snapshots as on disk
  std::vector<ProjectionView> projections;
  std::vector<RebuildView> rebuilds;
  const std::vector<AuditRecord>* audits = nullptr;  // the audit operations that ran
  const model::BackupLog* backups = nullptr;         // the backups taken (operations: backup)
  std::optional<RestoreView> restore;                // the restore drill, if the run has one
  std::optional<PersonalView> personal;              // when the domain declares personal data
  model::Bugs bugs;      // the system's settings (the properties' own oracle has none)
  bool quiet = true;     // the heal phase ended quiet
  std::string heal_end;  // how it ended, for evidence
  const model::UserFailures* user_failures = nullptr;  // thrown by user code in nodes
  std::vector<std::string> node_names;                 // by node id, for evidence
};

// The property every run is checked for, named or not: no user code (domain,
// handler, invariant, codec, upcaster) threw, in a node or in a checker.
inline constexpr std::string_view kUserCodeDoesNotThrow = "user_code_does_not_throw";

struct Property {
  std::string name;
  std::string domain;  // empty: any domain
  std::string description;
  std::function<std::vector<Violation>(const RunView&)> check;
};

// Every property essim knows, in a stable order.
const std::vector<Property>& all_properties();
const Property* property_by_name(std::string_view name);

// Every property that applies to `domain`: the generic ones, its own named
// ones, and its invariants.
std::vector<std::string> property_names(const model::Domain& domain);

// Runs the named properties (all that apply to the run's domain when empty).
std::vector<Violation> check(const RunView& run, const std::vector<std::string>& names = {});

// The evidence of `violations` holds no forgotten subject's plaintext: each
// value found is replaced by kForgotten, and each violation it was found in
// is reported as a violation of forgotten_subjects_absent (reports must not
// keep what the system forgot). Every token in it is shown masked
// (model::mask_tokens).
void redact_forgotten(std::vector<Violation>& violations, const PersonalView& personal);

}  // namespace essim::properties
