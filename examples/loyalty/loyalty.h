#pragma once
// A loyalty-points domain, registered with essim the way any user's domain is:
// on the public API only (<essim/...>).
//
// Streams `member-N`. Commands: enroll, earn, redeem (never below zero).
// Events: MemberEnrolled, PointsEarned and PointsRedeemed, both carrying the
// balance after them. Handlers:
//   loyalty.points-buggy  adds and subtracts: applied twice, it counts twice
//   loyalty.points        keeps each member's balance and the version it came
//                         from, and ignores anything not newer: idempotent

#include <essim/domain.h>

namespace loyalty {

void register_domain(essim::Registry& registry);

}  // namespace loyalty
