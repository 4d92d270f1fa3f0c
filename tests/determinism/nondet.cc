#include "nondet.h"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include <fmt/format.h>

#include <essim/codec.h>
#include <essim/typed.h>

namespace nondet {

namespace {

namespace model = essim;
using essim::Bytes;
using essim::Event;

// The same all through one process, different in another: the addresses of
// a static and of a heap object, mixed. This is the bug under test.
std::uint64_t process_tag() {
  static const int in_binary = 0;
  static const int* const on_heap = new int(0);
  std::uint64_t z = reinterpret_cast<std::uintptr_t>(&in_binary) ^
                    (reinterpret_cast<std::uintptr_t>(on_heap) << 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool in_second_run() {
  static const bool second = [] {
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    return cmdline.find("determinism-child") != std::string::npos;
  }();
  return second;
}

struct Tally {
  std::int64_t total = 0;
  friend bool operator==(const Tally&, const Tally&) = default;
  void encode(essim::Writer& w) const { w.svarint(total); }
  static essim::Result<Tally> decode(essim::Reader& r) { return Tally{r.svarint()}; }
  std::string describe() const { return "total " + std::to_string(total); }
};

std::int64_t amount(model::ByteView payload) {
  model::Reader r(payload);
  const std::int64_t a = r.svarint();
  if (!r.ok()) throw model::BadPayload("Added: no amount");
  return a;
}

class NondetDomain final : public essim::TypedDomain<Tally> {
 public:
  std::string name() const override { return "nondet"; }
  std::string description() const override { return "tallies, non-deterministic on purpose"; }
  std::vector<std::string> work_kinds() const override { return {"add", "add-tagged"}; }

  model::Work generate(std::string_view kind, essim::Rng& rng) const override {
    Bytes payload;
    model::Writer(payload).svarint(rng.between(1, 9));
    return model::Command{std::string(kind), "tally-" + std::to_string(rng.below(4)), payload};
  }

  void evolve(Tally& state, const Event& e) const override { state.total += amount(e.payload); }

  essim::Result<std::vector<model::NewEvent>> decide(const Tally&,
                                                     const model::Command& c) const override {
    Bytes payload;
    model::Writer w(payload);
    w.svarint(amount(c.payload));
    if (c.kind == "add-tagged") w.u64(process_tag());
    return std::vector<model::NewEvent>{{"Added", 1, payload}};
  }

  std::vector<model::ProjectionHandler> projections() const override {
    auto totals = [](model::ReadModel& read_model, const Event& e) {
      read_model[e.stream] += amount(e.payload);
    };
    return {
        {"totals", "stream -> total", totals},
        {"seen-by", "stream -> total, and a key named after an address in this process",
         [totals](model::ReadModel& read_model, const Event& e) {
           totals(read_model, e);
           read_model[fmt::format("process-{:016x}", process_tag())] = 1;  // always 24 bytes
         }},
        {"dies-rerun", "stream -> total; aborts in the second run of a determinism check",
         [totals](model::ReadModel& read_model, const Event& e) {
           if (in_second_run()) std::abort();
           totals(read_model, e);
         }},
    };
  }

  std::vector<std::string> event_types() const override { return {"Added"}; }

  std::string describe_payload(const Event& e) const override {
    return std::to_string(amount(e.payload));
  }
};

}  // namespace

void register_domain(model::Registry& registry) {
  registry.add(std::make_unique<NondetDomain>());
}

}  // namespace nondet
