#pragma once
// A bug zoo for essim's independent oracles: one small domain written on the
// public API only (<essim/...>), registered correct as `zoo`, and again once
// per bug as `zoo-<bug>`, the same code with one flag that changes it in one
// place. Every bug is a realistic one a user could write; each is caught by
// a generic oracle (README.md has the table), and `zoo` passes them all.
//
// Streams: `wallet-N` (N in 0..4) holds money in micros (a unit is 10^6
// micros); `handle-NAME` records which wallet reserved a handle, for which
// claim. Claiming a handle is a saga: reserve it on its own stream (undone
// by `release` if the wallet refuses it), then set it on the wallet.
//
// Events: WalletOpened, Deposited (v2: micros and a fee; v1, written by old
// clients still deployed: whole units and no fee, upcast), Withdrawn,
// WalletFrozen (carries how many times the wallet was frozen),
// WalletUnfrozen, HandleReserved, HandleReleased, HandleSet.
//
// Rules:
//   balance_never_negative  (each wallet) no overdraft
//   received_within_cap     (each wallet) at most 10,000 units received over
//                           its life (10^10 micros: more than 2^31)
//   handles_unique          (the whole log) no handle set on two wallets
//   balances_never_negative (read model of `balances`, at every checkpoint)
//   and a decision model (DecisionModel) stating when each command is
//   accepted, written apart from decide and evolve.
// Handlers (each with a reference projection and handles/ignores):
//   balances  wallet -> balance in micros (adds: needs deduplication)
//   profiles  wallet -> {owner, status, status_at, freezes, handle}
//             (idempotent alone: statuses guarded by stream version)
//   activity  "recent" -> the newest 8 money events by position
//             (idempotent alone and independent of delivery order)

#include <essim/domain.h>

namespace zoo {

// Adds `zoo` and every `zoo-<bug>`.
void register_domain(essim::Registry& registry);

}  // namespace zoo
