#pragma once
// The coverage probes essim's own model hits (sim/probe.h): each rare path
// of the store, bus, projection workers and clients that a sweep ought to
// reach, so a report can say which it never did.

#include <string_view>
#include <vector>

#include "model/domain.h"

namespace essim::model::probes {

// Store.
inline constexpr std::string_view kTornTailTruncated = "store.torn-tail-truncated";
inline constexpr std::string_view kCorruptRecordRefused = "store.corrupt-record-refused";
inline constexpr std::string_view kCommandAnsweredFromTable = "store.command-id-answered";
inline constexpr std::string_view kReadAllHeldAtGap = "store.read-all-held-at-gap";
inline constexpr std::string_view kAppendRefusedBusy = "store.append-refused-busy";
// Clients.
inline constexpr std::string_view kConflictRetried = "client.conflict-retried";
inline constexpr std::string_view kAppendAckedAfterRetry = "client.append-acked-after-retry";
inline constexpr std::string_view kAppendTimedOut = "client.append-timed-out";
inline constexpr std::string_view kSagaCompensated = "client.saga-compensated";
inline constexpr std::string_view kSnapshotUsed = "client.snapshot-used";
// Clients and projection workers.
inline constexpr std::string_view kUpcastApplied = "model.upcast-applied";
// The network (sim/probe.h): kProbePartitionDropped.
// Projection workers.
inline constexpr std::string_view kRedeliverySkipped = "projection.redelivery-skipped";
inline constexpr std::string_view kCheckpointRestored = "projection.checkpoint-restored";

// essim's own probes, with what each means.
const std::vector<ProbeDeclaration>& builtin();

// Every probe a run of `domain` may hit that is declared: essim's, then the
// domain's.
std::vector<ProbeDeclaration> known(const Domain& domain);

// Letters, digits, '.', '_' and '-'; 1 to 64 of them.
bool well_formed(std::string_view name);

}  // namespace essim::model::probes
