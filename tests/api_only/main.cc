// Decides and evolves through the public API, no runner: exits 0 when the
// domain behaves, 1 otherwise.
#include <cstdio>
#include <memory>

#include <essim/codec.h>
#include <essim/typed.h>
#include <essim/value.h>

namespace {

struct Count {
  std::int64_t n = 0;
  friend bool operator==(const Count&, const Count&) = default;
  void encode(essim::Writer& w) const { w.svarint(n); }
  static essim::Result<Count> decode(essim::Reader& r) { return Count{r.svarint()}; }
};

class Counter final : public essim::TypedDomain<Count> {
 public:
  std::string name() const override { return "counter"; }
  std::vector<std::string> work_kinds() const override { return {"bump"}; }
  essim::Work generate(std::string_view, essim::Rng&) const override {
    return essim::Command{"bump", "c", {}};
  }
  void evolve(Count& c, const essim::Event&) const override { ++c.n; }
  essim::Result<std::vector<essim::NewEvent>> decide(const Count& c,
                                                     const essim::Command&) const override {
    if (c.n >= 2) return essim::Error{"full"};
    return std::vector<essim::NewEvent>{{"Bumped", 1, {}}};
  }
};

}  // namespace

int main() {
  essim::Registry registry;
  registry.add(std::make_unique<Counter>());
  const essim::Domain& d = *registry.domain("counter");
  auto state = d.initial_state();
  int ok = 0;
  for (int i = 0; i < 3; ++i) {
    auto decided = d.decide_state(*state, essim::Command{"bump", "c", {}});
    if (!decided) break;
    ++ok;
    d.evolve_state(*state, essim::Event{});
  }
  essim::ReadModel m;
  m["c"] += ok;
  const bool good = ok == 2 && essim::TypedDomain<Count>::state_of(*state).n == 2 &&
                    essim::Value(m).to_json() == R"({"c":2})";
  std::printf("%s\n", good ? "ok" : "wrong");
  return good ? 0 : 1;
}
