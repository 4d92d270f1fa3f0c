#pragma once
// A domain over a plain struct: the way to write one.
//
//   struct Member {
//     bool enrolled = false;
//     std::int64_t points = 0;
//     friend bool operator==(const Member&, const Member&) = default;
//     void encode(essim::Writer& w) const { w.boolean(enrolled); w.svarint(points); }
//     static essim::Result<Member> decode(essim::Reader& r);   // for snapshots
//     std::string describe() const;                           // optional, for evidence
//   };
//
//   class Loyalty final : public essim::TypedDomain<Member> {
//     std::string name() const override { return "loyalty"; }
//     std::vector<std::string> work_kinds() const override;
//     essim::Work generate(std::string_view kind, essim::Rng& rng) const override;
//     void evolve(Member& m, const essim::Event& e) const override;
//     essim::Result<std::vector<essim::NewEvent>> decide(const Member& m,
//                                                        const essim::Command& c) const override;
//   };
//
// States are created only by their own domain, so no cast here can meet a
// state of another type: the adapter uses static_cast, never dynamic_cast.

#include <concepts>
#include <memory>
#include <string>
#include <utility>

#include <essim/domain.h>

namespace essim {

// What TypedDomain needs of a state.
template <typename S>
concept DomainState = std::copyable<S> && std::equality_comparable<S> &&
    requires(const S& s, Writer& w, Reader& r) {
  {s.encode(w)};
  { S::decode(r) } -> std::same_as<Result<S>>;
};

namespace detail {

// The untyped state a TypedDomain keeps its State in. (Outside the class, so
// that its name cannot hide one of the user's.)
template <typename State>
struct TypedState final : AggregateState {
  explicit TypedState(State v) : value(std::move(v)) {}
  std::unique_ptr<AggregateState> clone() const override {
    return std::make_unique<TypedState>(value);
  }
  void encode(Bytes& out) const override {
    Writer w(out);
    value.encode(w);
  }
  bool equals(const AggregateState& other) const override {
    return static_cast<const TypedState&>(other).value == value;
  }
  std::string describe() const override {
    if constexpr (requires {
                    { value.describe() } -> std::convertible_to<std::string>;
                  }) {
      return value.describe();
    } else {
      Bytes bytes;
      encode(bytes);
      return std::to_string(bytes.size()) + " bytes encoded";
    }
  }
  State value;
};

}  // namespace detail

template <DomainState State>
class TypedDomain : public Domain {
 public:
  // The state of an aggregate with no events yet.
  virtual State initial() const { return State{}; }
  virtual void evolve(State& state, const Event& event) const = 0;
  virtual Result<std::vector<NewEvent>> decide(const State& state,
                                               const Command& command) const = 0;

  std::unique_ptr<AggregateState> initial_state() const final {
    return std::make_unique<detail::TypedState<State>>(initial());
  }
  void evolve_state(AggregateState& state, const Event& event) const final {
    evolve(static_cast<detail::TypedState<State>&>(state).value, event);
  }
  Result<std::vector<NewEvent>> decide_state(const AggregateState& state,
                                             const Command& command) const final {
    return decide(static_cast<const detail::TypedState<State>&>(state).value, command);
  }
  // An untyped state holding `state`, and the state an untyped one holds
  // (for tests of a domain's own code). REQUIRES for state_of: `state` was
  // made by a TypedDomain<State>.
  static std::unique_ptr<AggregateState> box(State state) {
    return std::make_unique<detail::TypedState<State>>(std::move(state));
  }
  static const State& state_of(const AggregateState& state) {
    return static_cast<const detail::TypedState<State>&>(state).value;
  }

  Result<std::unique_ptr<AggregateState>> decode_state(ByteView bytes) const final {
    Reader r(bytes);
    Result<State> state = State::decode(r);
    if (!state) return state.error();
    if (!r.ok()) return Error{r.error()};
    if (!r.at_end()) return Error{"bytes left over after the state"};
    return std::unique_ptr<AggregateState>(
        std::make_unique<detail::TypedState<State>>(std::move(state).value()));
  }

 protected:
  // A rule of one aggregate over this domain's State (see Invariant).
  static Invariant invariant(std::string name, std::string description, std::string stream_prefix,
                             std::function<bool(const State&)> holds) {
    return Invariant{std::move(name), std::move(description), std::move(stream_prefix),
                     [holds = std::move(holds)](const AggregateState& s) {
                       return holds(static_cast<const detail::TypedState<State>&>(s).value);
                     }};
  }
};

}  // namespace essim
