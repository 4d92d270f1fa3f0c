#pragma once
// A box office, registered with essim the way any user's domain is: on the
// public API only (<essim/...>).
//
// Streams: `hall` hands out seat numbers; `ticket-ID` holds one ticket.
// Selling is a saga: take a seat from the hall, then issue the ticket for
// the seat the first step returned (Domain::next_step reads it).
//
// Rules:
//   seats_unique           (the whole log) no seat is sold twice, across
//                          every ticket stream: no single aggregate sees it
//   one_seat_per_ticket    (read model of box-office.seats, at every
//                          checkpoint) no ticket shows up under two seats
// Handlers:
//   box-office.seats        seat -> {ticket, price}: idempotent
//   box-office.seats-buggy  ticket -> list of seats, appended to: a
//                           redelivery lists a seat twice

#include <essim/domain.h>

namespace box_office {

void register_domain(essim::Registry& registry);

}  // namespace box_office
