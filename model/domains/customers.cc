#include "model/domains/customers.h"

#include <fmt/format.h>

#include <array>
#include <stdexcept>

namespace essim::model::domains {

namespace {

// Payloads (commands and events alike): a name (register only) and an email.
struct Details {
  std::string name;
  std::string email;
};

Bytes details_payload(const Details& d, bool with_name) {
  Bytes out;
  Writer w(out);
  if (with_name) w.string(d.name);
  w.string(d.email);
  return out;
}

Result<Details> read_details(ByteView bytes, bool with_name) {
  Reader r(bytes);
  Details d;
  if (with_name) d.name = r.string();
  d.email = r.string();
  if (!r.ok()) return Error{"bad customers payload: " + r.error()};
  if (!r.at_end()) return Error{"bad customers payload: bytes left over"};
  return d;
}

bool has_name(std::string_view type_or_kind) {
  return type_or_kind == "CustomerRegistered" || type_or_kind == "register";
}

Details details_of(const Event& e) {
  auto d = read_details(e.payload, has_name(e.type));
  if (!d.ok()) throw BadPayload(d.error().message);
  return std::move(d).value();
}

}  // namespace

void Customer::encode(Writer& w) const {
  w.boolean(registered);
  w.string(name);
  w.string(email);
  w.varint(email_changes);
}

Result<Customer> Customer::decode(Reader& r) {
  Customer c;
  c.registered = r.boolean();
  c.name = r.string();
  c.email = r.string();
  c.email_changes = r.varint();
  if (!r.ok()) return Error{"bad customers snapshot: " + r.error()};
  return c;
}

std::string Customer::describe() const {
  if (!registered) return "not registered";
  return fmt::format("registered, name {}, email {}, {} email change(s)", name, email,
                     email_changes);
}

std::string CustomersDomain::description() const {
  return "customers with personal data (name, email) sealed per customer, for forgetting one";
}

std::vector<std::string> CustomersDomain::work_kinds() const {
  return {"register", "change_email"};
}

std::vector<WorkWeight> CustomersDomain::mix() const {
  return {{"register", 1}, {"change_email", 2}};
}

Work CustomersDomain::generate(std::string_view kind, Rng& rng) const {
  static constexpr std::array<std::string_view, 8> kNames = {
      "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Tony"};
  if (kind != "register" && kind != "change_email")
    throw std::invalid_argument(fmt::format("the customers domain has no work '{}'", kind));
  const std::string stream = fmt::format("customer-{}", rng.below(kCustomers));
  const std::string_view first = kNames[rng.below(kNames.size())];
  // Values unlike any other, so that one found anywhere is this one.
  Details d;
  d.name = fmt::format("{} {:06x}", first, rng.below(1U << 24));
  d.email = fmt::format("{}.{:06x}@example.org", first, rng.below(1U << 24));
  return Command{std::string(kind), stream, details_payload(d, kind == "register")};
}

void CustomersDomain::evolve(Customer& c, const Event& e) const {
  if (e.type == "CustomerRegistered") {
    const Details d = details_of(e);
    c.registered = true;
    c.name = d.name;
    c.email = d.email;
  } else if (e.type == "EmailChanged") {
    c.email = details_of(e).email;
    ++c.email_changes;
  }
}

Result<std::vector<NewEvent>> CustomersDomain::decide(const Customer& c,
                                                      const Command& command) const {
  if (command.kind != "register" && command.kind != "change_email")
    return Error{fmt::format("the customers domain has no command '{}'", command.kind)};
  auto d = read_details(command.payload, has_name(command.kind));
  if (!d.ok()) return d.error();
  using Events = std::vector<NewEvent>;
  if (command.kind == "register") {
    if (c.registered) return Error{"already registered"};
    return Events{{"CustomerRegistered", 1, details_payload(d.value(), true)}};
  }
  if (!c.registered) return Error{"not registered"};
  return Events{{"EmailChanged", 1, details_payload(d.value(), false)}};
}

std::vector<ProjectionHandler> CustomersDomain::projections() const {
  // The directory keeps what it is given: tokens. Whoever shows an entry
  // reveals it there, and a forgotten customer's entry can no longer be read.
  // Each entry remembers the version it holds, so a late or repeated event
  // changes nothing: the handler is idempotent without deduplication.
  const auto apply = [](ReadModel& m, const Event& e) {
    if (e.type != "CustomerRegistered" && e.type != "EmailChanged") return;
    const Details d = details_of(e);
    Value& entry = m[e.stream];
    const Value* held = entry.find("version");
    if (held != nullptr && held->as_int() >= static_cast<std::int64_t>(e.version)) return;
    if (e.type == "CustomerRegistered") entry["name"] = d.name;
    entry["email"] = d.email;
    entry["version"] = static_cast<std::int64_t>(e.version);
  };
  ProjectionHandler directory{
      "directory", "customer -> {name, email, version}, as stored (sealed); idempotent", apply};
  directory.reference = [](const std::vector<Event>& log) {
    ReadModel m;
    for (const Event& e : log) {
      if (e.type == "CustomerRegistered") {
        const Details d = details_of(e);
        m[e.stream] = Value::Map{{"email", d.email}, {"name", d.name}};
      }
    }
    // The latest email of each customer wins; the entry holds its last version.
    for (const Event& e : log) {
      if (!m.contains(e.stream)) continue;
      if (e.type == "EmailChanged") m[e.stream]["email"] = details_of(e).email;
      if (e.type == "CustomerRegistered" || e.type == "EmailChanged")
        m[e.stream]["version"] = static_cast<std::int64_t>(e.version);
    }
    return m;
  };
  directory.handles = event_types();
  return {directory};
}

std::vector<PersonalData> CustomersDomain::personal_data() const {
  std::vector<PersonalData> out;
  for (const std::string& type : event_types()) {
    const bool with_name = has_name(type);
    out.push_back(
        {type, [](const Event& e) { return e.stream; },
         [with_name](const Event& e, const std::function<std::string(const std::string&)>& seal) {
           Details d = details_of(e);
           if (with_name) d.name = seal(d.name);
           d.email = seal(d.email);
           return details_payload(d, with_name);
         }});
  }
  return out;
}

std::string CustomersDomain::describe_payload(const Event& e) const {
  auto d = read_details(e.payload, has_name(e.type));
  if (!d.ok()) return d.error().message;
  if (!has_name(e.type)) return "email " + d.value().email;
  return fmt::format("name {}, email {}", d.value().name, d.value().email);
}

std::string CustomersDomain::describe_command_payload(const Command& c) const {
  // A command carries the plaintext: evidence says only what kind it is.
  return has_name(c.kind) ? "name and email (personal)" : "email (personal)";
}

}  // namespace essim::model::domains
