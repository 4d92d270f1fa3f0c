#pragma once
// The customers domain: a register of customers whose names and email
// addresses are personal data (Domain::personal_data), sealed with a key per
// customer, so that forgetting a customer (`forget: customer-N`) makes them
// unreadable everywhere. What crypto-shredding is about, in a small shape.
//
// Streams: `customer-N`. Events: CustomerRegistered (name, email),
// EmailChanged (email); both personal, the customer's stream its subject.
// Projection: customers.directory (customer -> {name, email}, as tokens).

#include <cstdint>
#include <string>

#include <essim/typed.h>

namespace essim::model::domains {

struct Customer {
  bool registered = false;
  std::string name;   // as stored: a token
  std::string email;  // as stored: a token
  std::uint64_t email_changes = 0;

  void encode(Writer& w) const;
  static Result<Customer> decode(Reader& r);
  std::string describe() const;
  friend bool operator==(const Customer&, const Customer&) = default;
};

// Written on the public API only (essim/typed.h), as a user's domain is.
class CustomersDomain final : public TypedDomain<Customer> {
 public:
  static constexpr int kCustomers = 6;

  std::string name() const override { return "customers"; }
  std::string description() const override;
  std::vector<std::string> work_kinds() const override;
  Work generate(std::string_view kind, Rng& rng) const override;
  std::vector<WorkWeight> mix() const override;
  void evolve(Customer& state, const Event& event) const override;
  Result<std::vector<NewEvent>> decide(const Customer& state,
                                       const Command& command) const override;
  std::vector<std::string> evolve_handles() const override { return event_types(); }
  std::vector<ProjectionHandler> projections() const override;
  std::vector<PersonalData> personal_data() const override;
  std::vector<std::string> event_types() const override {
    return {"CustomerRegistered", "EmailChanged"};
  }
  std::string describe_payload(const Event& event) const override;
  std::string describe_command_payload(const Command& command) const override;
};

}  // namespace essim::model::domains
