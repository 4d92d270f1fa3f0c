#include "model/probes.h"

#include <algorithm>

#include "sim/probe.h"

namespace essim::model::probes {

const std::vector<ProbeDeclaration>& builtin() {
  static const std::vector<ProbeDeclaration> kAll{
      {std::string(kTornTailTruncated), "the store's recovery cut a torn tail off its log"},
      {std::string(kCorruptRecordRefused),
       "the store's recovery found a corrupt record and served only the records before it"},
      {std::string(kCommandAnsweredFromTable),
       "an append whose command id was committed already was answered from the command table"},
      {std::string(kReadAllHeldAtGap),
       "a read of the whole log stopped at a position whose commit was not yet visible"},
      {std::string(kAppendRefusedBusy),
       "the store turned an append away: too many were in progress"},
      {std::string(kConflictRetried),
       "a client's append lost an optimistic-concurrency race and decided again"},
      {std::string(kAppendAckedAfterRetry),
       "an append was acknowledged after the client had sent it more than once"},
      {std::string(kAppendTimedOut),
       "an append got no answer in time and the client sent it again"},
      {std::string(kSagaCompensated), "a saga ran a compensation"},
      {std::string(kSnapshotUsed),
       "a client loaded a stream from a snapshot and the events after it"},
      {std::string(kUpcastApplied), "an event of an older schema was upcast as it was read"},
      {std::string(sim::kProbePartitionDropped), "a message was lost to a network partition"},
      {std::string(kRedeliverySkipped),
       "a projection worker skipped a redelivered event by its dedup strategy"},
      {std::string(kCheckpointRestored),
       "a projection worker restarted from a checkpoint it had made durable"},
  };
  return kAll;
}

std::vector<ProbeDeclaration> known(const Domain& domain) {
  std::vector<ProbeDeclaration> out = builtin();
  for (ProbeDeclaration& p : domain.probes()) out.push_back(std::move(p));
  return out;
}

bool well_formed(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

}  // namespace essim::model::probes
