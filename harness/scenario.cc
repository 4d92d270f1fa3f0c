#include "harness/scenario.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "external/domain.h"
#include "harness/names.h"
#include "harness/scenario_schema.h"
#include "harness/shrink.h"
#include "model/bugs.h"
#include "model/personal.h"
#include "model/probes.h"
#include "model/user_code.h"
#include "properties/properties.h"

namespace essim::harness {

namespace {

// Thrown inside the loader only; parse_scenario turns it into an Error.
struct LoadError {
  std::string message;
};

[[noreturn]] void fail_at(const std::string& file, int line, int column,
                          const std::string& message) {
  // yaml-cpp marks nothing in particular as -1: a message still names a place.
  throw LoadError{
      fmt::format("{}:{}:{}: {}", file, std::max(line, 0) + 1, std::max(column, 0) + 1, message)};
}

// ---- the text before YAML: size, bytes, encoding ----

struct Place {
  int line = 0;    // 0-based, as in YAML::Mark
  int column = 0;  // 0-based
};

Place place_of(std::string_view text, std::size_t offset) {
  Place p;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 0;
    } else {
      ++p.column;
    }
  }
  return p;
}

// YAML is Unicode text: refuse invalid UTF-8 and control characters (other
// than tab and line ends) where they are, before any parser sees them.
void check_text(std::string_view text, const std::string& file) {
  if (text.size() > kScenarioBytesMax) {
    fail_at(file, 0, 0,
            fmt::format("the file is larger than {} bytes, the most a scenario may be; is it "
                        "really a scenario?",
                        kScenarioBytesMax));
  }
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    const Place p = place_of(text, nul);
    fail_at(file, p.line, p.column, "this is a binary file, not a YAML scenario");
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    fail_at(file, 0, 0, "the file is empty; a scenario needs at least name: and domain:");
  if (const std::size_t valid = utf8_valid_prefix(text); valid < text.size()) {
    const Place p = place_of(text, valid);
    fail_at(file, p.line, p.column,
            fmt::format("byte 0x{:02X} is not UTF-8; save the file as UTF-8",
                        static_cast<unsigned char>(text[valid])));
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
      const Place p = place_of(text, i);
      fail_at(file, p.line, p.column,
              fmt::format("control character 0x{:02X} in the text; remove it", c));
    }
  }
}

// ---- YAML that yaml-cpp accepts but a scenario must not hold ----

// Walks the parser's events once: a key twice in one mapping (yaml-cpp keeps
// the first, other tools the last), keys that are not plain words, tags,
// aliases (they can expand a small file into a huge tree) and a second
// document are errors, each at its place.
class StrictYaml : public YAML::EventHandler {
 public:
  explicit StrictYaml(std::string file) : file_(std::move(file)) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1)
      fail(mark, "a second YAML document ('---'); a scenario file holds one document");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark, nullptr); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    fail(mark, "aliases (*name) are not supported in scenarios; write the value out");
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                const std::string& value) override {
    check_tag(mark, tag);
    node(mark, &value);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    check_tag(mark, tag);
    node(mark, nullptr, true);
    frames_.push_back(Frame{false, true, {}});
  }
  void OnSequenceEnd() override { frames_.pop_back(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    check_tag(mark, tag);
    node(mark, nullptr, true);
    frames_.push_back(Frame{true, true, {}});
  }
  void OnMapEnd() override { frames_.pop_back(); }

 private:
  struct Frame {
    bool map = false;
    bool key_next = true;                      // maps: the next node is a key
    std::map<std::string, YAML::Mark> keys{};  // maps: keys seen, where
  };

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) const {
    fail_at(file_, mark.line, mark.column, message);
  }

  void check_tag(const YAML::Mark& mark, const std::string& tag) const {
    // "?" is an untagged plain node, "!" an untagged quoted scalar.
    if (!tag.empty() && tag != "?" && tag != "!")
      fail(mark, fmt::format("YAML tags ('{}') are not supported in scenarios; remove the tag",
                             printable(tag)));
  }

  // A node starts: when it is a mapping's key, it must be a new plain word.
  void node(const YAML::Mark& mark, const std::string* scalar, bool collection = false) {
    if (frames_.empty() || !frames_.back().map) return;
    Frame& f = frames_.back();
    const bool is_key = f.key_next;
    f.key_next = !f.key_next;
    if (!is_key) return;
    if (scalar == nullptr || collection)
      fail(mark, "a key must be a plain word, not a list, a mapping or nothing");
    const auto [it, fresh] = f.keys.emplace(*scalar, mark);
    if (!fresh) {
      fail(mark, fmt::format("duplicate key '{}': it is already at line {}, column {}; keep one",
                             printable(*scalar), it->second.line + 1, it->second.column + 1));
    }
  }

  std::string file_;
  std::vector<Frame> frames_;
  int documents_ = 0;
};

void check_yaml(const std::string& text, const std::string& file) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  StrictYaml strict(file);
  while (parser.HandleNextDocument(strict)) {
  }
}

// ---- the loader: a scenario from the YAML tree ----

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string scalar_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return fmt::format("'{}'", printable(node.Scalar().substr(0, 80)));
  }
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string guess = nearest(word, candidates);
  return guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess);
}

// Names a projection may not take: other nodes', and the crash-target roles.
bool reserved_node_name(std::string_view name) {
  return name == "store" || name == "bus" || name == "projections" || name == "clients" ||
         name.starts_with("client");
}

// A whole number in decimal digits only, or nullopt.
std::optional<std::uint64_t> parse_whole(std::string_view digits) {
  std::uint64_t n = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size())
    return std::nullopt;
  return n;
}

class Loader {
 public:
  Loader(std::string file, const model::Registry& registry)
      : file_(std::move(file)), registry_(&registry) {}

  Scenario load(const YAML::Node& root);

 private:
  // A mapping checked against its section of the schema; lookups of keys
  // the section lacks are a bug of the loader, caught by any test.
  class Fields {
   public:
    Fields(const YAML::Node& map, const schema::Section& section) : map_(map), section_(section) {}
    YAML::Node operator[](std::string_view key) const {
      ESSIM_ASSERT_MSG(section_.has(key), fmt::format("the loader reads '{}', which is not in "
                                                      "'{}' of harness/scenario_schema.h",
                                                      key, section_.path));
      return map_[std::string(key)];
    }
    const YAML::Node& node() const { return map_; }

   private:
    YAML::Node map_;
    const schema::Section& section_;
  };

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) const {
    fail_at(file_, mark.line, mark.column, message);
  }
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    fail(node.Mark(), message);
  }

  Fields open(const YAML::Node& map, const schema::Section& section,
              const std::string& where) const;
  void keys(const YAML::Node& map, const std::string& where,
            const std::vector<std::string>& allowed) const;
  YAML::Node list(const YAML::Node& node, const std::string& what) const;
  std::string text(const YAML::Node& node, const std::string& what,
                   NameRule rule = NameRule::kText) const;
  bool flag(const YAML::Node& node, const std::string& what) const;
  std::uint64_t integer(const YAML::Node& node, const std::string& what, std::uint64_t min,
                        std::uint64_t max) const;
  double probability(const YAML::Node& node, const std::string& what) const;
  sim::Micros duration(const YAML::Node& node, const std::string& what, sim::Micros min = 0,
                       sim::Micros max = sim::kDurationMax) const;
  sim::DurationRange range(const YAML::Node& node, const std::string& what) const;
  std::vector<std::string> names(const YAML::Node& node, const std::string& what) const;
  sim::NodeId node_id(const YAML::Node& node, const std::vector<std::string>& names) const;

  void top(const Fields& root, Scenario& s) const;
  void external(const YAML::Node& node, Scenario& s);
  void bugs(const YAML::Node& node, Scenario& s) const;
  void properties(const Fields& root, Scenario& s) const;
  void required_probes(const YAML::Node& node, Scenario& s) const;
  void topology(const YAML::Node& node, Scenario& s) const;
  void store(const YAML::Node& node, Scenario& s) const;
  void bus(const YAML::Node& node, Scenario& s) const;
  void projections(const YAML::Node& node, Scenario& s) const;
  void workload(const YAML::Node& node, Scenario& s) const;
  void faults(const YAML::Node& node, Scenario& s) const;
  void network(const YAML::Node& node, Scenario& s) const;
  void crashes(const YAML::Node& node, Scenario& s) const;
  FaultTargets targets(const YAML::Node& node, const Scenario& s) const;
  void plan_bound(const Fields& faults, const Scenario& s) const;
  void expect(const YAML::Node& node, Scenario& s) const;
  void swarm(const YAML::Node& node, Scenario& s) const;
  void operations(const YAML::Node& node, Scenario& s) const;
  Operation operation(const YAML::Node& node, const Scenario& s, const schema::Section& section,
                      sim::Micros chaos_us) const;
  SwarmDraw repro_swarm(const YAML::Node& node, const Scenario& s) const;
  void repro(const YAML::Node& node, Scenario& s) const;
  sim::FaultAction repro_fault(const YAML::Node& node, const Scenario& s,
                               std::set<std::uint32_t>& partitions) const;
  sim::MessageFate repro_message(const YAML::Node& node, const Scenario& s) const;
  model::PlannedWork repro_work(const YAML::Node& node, const Scenario& s,
                                sim::Micros chaos_us) const;

  std::string file_;
  // The one names are looked up in: the caller's, or one extending it with
  // the scenario's external domain.
  const model::Registry* registry_;
  std::string external_domain_;  // the external domain's name, when there is one
};

Loader::Fields Loader::open(const YAML::Node& map, const schema::Section& section,
                            const std::string& where) const {
  std::vector<std::string> allowed;
  for (const schema::Key& k : section.keys) allowed.emplace_back(k.name);
  keys(map, where, allowed);
  for (const schema::Key& k : section.keys) {
    if (k.required && !map[std::string(k.name)])
      fail(map, fmt::format("{} needs the key '{}'", where, k.name));
  }
  return Fields(map, section);
}

void Loader::keys(const YAML::Node& map, const std::string& where,
                  const std::vector<std::string>& allowed) const {
  if (!map.IsMap())
    fail(map, fmt::format("{} must be a mapping of keys, found {}", where, scalar_kind(map)));
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    const std::string guess = nearest(key, allowed);
    fail(it->first, guess.empty() ? fmt::format("unknown key '{}' in {}; valid keys: {}",
                                                printable(key), where, fmt::join(allowed, ", "))
                                  : fmt::format("unknown key '{}' in {}; did you mean '{}'?",
                                                printable(key), where, guess));
  }
}

// By value: callers pass temporaries (f["key"]), and a range-for over a
// reference into one would dangle.
YAML::Node Loader::list(const YAML::Node& node, const std::string& what) const {
  if (!node.IsSequence())
    fail(node, fmt::format("{} must be a list such as [a, b], found {}", what, scalar_kind(node)));
  return node;
}

std::string Loader::text(const YAML::Node& node, const std::string& what, NameRule rule) const {
  if (!node.IsScalar())
    fail(node, fmt::format("{} must be a string, found {}", what, scalar_kind(node)));
  const std::string& value = node.Scalar();
  if (const std::string problem = name_problem(value, rule); !problem.empty())
    fail(node, fmt::format("{} {}", what, problem));
  return value;
}

bool Loader::flag(const YAML::Node& node, const std::string& what) const {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    fail(node, fmt::format("{} must be true or false, found {}", what, scalar_kind(node)));
  }
  return value;
}

std::uint64_t Loader::integer(const YAML::Node& node, const std::string& what, std::uint64_t min,
                              std::uint64_t max) const {
  const std::string s = node.IsScalar() ? node.Scalar() : "";
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  const bool digits = !s.empty() && end == s.data() + s.size();
  if (digits && ec == std::errc::result_out_of_range) {
    fail(node, fmt::format("{} must be between {} and {}, not {}", what, min, max, s));
  }
  if (!digits || ec != std::errc{}) {
    fail(node, fmt::format("{} must be a whole number from {} to {}, found {}", what, min, max,
                           scalar_kind(node)));
  }
  if (value < min || value > max) {
    fail(node, fmt::format("{} must be between {} and {}, not {}", what, min, max, value));
  }
  return value;
}

double Loader::probability(const YAML::Node& node, const std::string& what) const {
  double value = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, value)) {
    fail(node, fmt::format("{} must be a probability (a number from 0 to 1), found {}", what,
                           scalar_kind(node)));
  }
  if (!(value >= 0.0 && value <= 1.0)) {  // NaN fails both comparisons
    fail(node, fmt::format("{} must be a probability from 0 to 1, not {}", what,
                           printable(node.Scalar())));
  }
  return value;
}

sim::Micros Loader::duration(const YAML::Node& node, const std::string& what, sim::Micros min,
                             sim::Micros max) const {
  if (!node.IsScalar())
    fail(node,
         fmt::format("{} must be a duration such as 150ms, found {}", what, scalar_kind(node)));
  auto parsed = sim::parse_duration(node.Scalar());
  if (!parsed.ok()) {
    YAML::Mark mark = node.Mark();
    mark.column += parsed.error().column - 1;
    fail(mark, fmt::format("{}: {}", what, parsed.error().message));
  }
  if (parsed.value() < min || parsed.value() > max) {
    fail(node, fmt::format("{} must be from {} to {}, not {}", what, sim::format_duration(min),
                           sim::format_duration(max), node.Scalar()));
  }
  return parsed.value();
}

sim::DurationRange Loader::range(const YAML::Node& node, const std::string& what) const {
  if (!node.IsScalar())
    fail(node, fmt::format("{} must be a duration or a range such as 1ms..50ms, found {}", what,
                           scalar_kind(node)));
  auto parsed = sim::parse_duration_range(node.Scalar());
  if (!parsed.ok()) {
    YAML::Mark mark = node.Mark();
    mark.column += parsed.error().column - 1;
    fail(mark, fmt::format("{}: {}", what, parsed.error().message));
  }
  return parsed.value();
}

std::vector<std::string> Loader::names(const YAML::Node& node, const std::string& what) const {
  std::vector<std::string> out;
  for (const YAML::Node& item : list(node, what)) out.push_back(text(item, what + " entry"));
  return out;
}

sim::NodeId Loader::node_id(const YAML::Node& node, const std::vector<std::string>& names) const {
  const std::string name = text(node, "a node name");
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    fail(node, fmt::format("no node '{}' in this topology{}", name, did_you_mean(name, names)));
  return static_cast<sim::NodeId>(it - names.begin());
}

Scenario Loader::load(const YAML::Node& root) {
  if (!root.IsMap()) fail(root, "a scenario file must be a mapping of keys (name:, domain:, ...)");
  const Fields f = open(root, schema::kTopSection, "the scenario");
  Scenario s;
  s.file = file_;
  if (f["external"]) external(f["external"], s);
  s.registry = registry_;
  top(f, s);
  if (f["topology"]) topology(f["topology"], s);
  if (f["workload"]) workload(f["workload"], s);
  if (f["faults"]) faults(f["faults"], s);
  if (f["bugs"]) bugs(f["bugs"], s);
  properties(f, s);
  if (f["swarm"]) swarm(f["swarm"], s);
  if (f["operations"]) operations(f["operations"], s);
  if (f["repro"]) repro(f["repro"], s);
  // The located checks above cover build_cluster's; this is the net under
  // them, so that whatever loads also builds.
  if (auto ok = check_spec(s.spec, *registry_); !ok)
    fail(root, fmt::format("this scenario cannot run: {}", ok.error().message));
  return s;
}

void Loader::top(const Fields& f, Scenario& s) const {
  s.name = text(f["name"], "name");
  if (f["description"]) s.description = text(f["description"], "description", NameRule::kProse);
  s.spec.domain = text(f["domain"], "domain");
  if (!external_domain_.empty() && s.spec.domain != external_domain_) {
    fail(f["domain"], fmt::format("the external process declares the domain '{}'; name it here",
                                  external_domain_));
  }
  if (registry_->domain(s.spec.domain) == nullptr) {
    fail(f["domain"], fmt::format("no domain '{}'{}; registered: {}", s.spec.domain,
                                  did_you_mean(s.spec.domain, registry_->domain_names()),
                                  fmt::join(registry_->domain_names(), ", ")));
  }
  // A domain with personal data runs with its key store.
  s.spec.key_store = !model::PersonalIndex(*registry_->domain(s.spec.domain)).empty();
  if (f["seeds"]) s.seeds = integer(f["seeds"], "seeds", 1, kSeedsMax);
  if (f["duration"]) s.spec.chaos_us = duration(f["duration"], "duration", 0, sim::kChaosMax);
  if (f["heal_max"]) s.spec.heal_max_us = duration(f["heal_max"], "heal_max", 1);
}

// The process starts here, so that `validate` shakes hands with it: what
// validates runs. A process that cannot start or answers wrongly is a
// harness failure (model::HarnessFailure, exit 3), not a scenario error.
void Loader::external(const YAML::Node& node, Scenario& s) {
  const Fields f = open(node, schema::kExternalSection, "external");
  if (f["command"] && f["connect"])
    fail(node, "external: give command (a process to start) or connect (one running), not both");
  external::ExternalSpec spec;
  if (f["timeout"]) {
    spec.deadline = external::Millis(
        duration(f["timeout"], "external.timeout", sim::millis(1), sim::seconds(3600)) / 1000);
  }
  if (f["command"]) {
    external::ChildSpec child;
    child.command = names(f["command"], "external.command");
    if (child.command.empty())
      fail(f["command"], "external.command: give the program and its arguments");
    // Relative to the scenario file's folder, as the file's other paths.
    std::filesystem::path cwd = std::filesystem::path(file_).parent_path();
    if (f["cwd"]) cwd /= text(f["cwd"], "external.cwd");
    child.cwd = cwd.empty() ? "." : cwd.lexically_normal().string();
    if (f["env"]) {
      if (!f["env"].IsMap()) fail(f["env"], "external.env: a mapping of NAME: value");
      for (const auto& entry : f["env"]) {
        const std::string key = text(entry.first, "external.env name");
        if (key.empty() || key.find('=') != std::string::npos)
          fail(entry.first, fmt::format("external.env: '{}' is not a variable name", key));
        child.env.emplace_back(key, text(entry.second, "external.env." + key));
      }
    }
    spec.child = std::move(child);
  } else if (f["connect"]) {
    if (f["cwd"] || f["env"]) fail(node, "external: cwd and env are for a command, not connect");
    const std::string address = text(f["connect"], "external.connect");
    const std::size_t colon = address.rfind(':');
    const auto port =
        colon == std::string::npos ? std::nullopt : parse_whole(address.substr(colon + 1));
    if (!port || *port == 0 || *port > 65535 || colon == 0)
      fail(f["connect"],
           fmt::format("external.connect: '{}' is not HOST:PORT (127.0.0.1:7000)", address));
    spec.tcp = external::Endpoint{address.substr(0, colon), static_cast<std::uint16_t>(*port)};
  } else {
    fail(node, "external: give command (a process to start) or connect (HOST:PORT of one running)");
  }
  std::unique_ptr<model::Domain> domain;
  try {
    domain = external::open_external(spec);
  } catch (const model::HarnessFailure& e) {  // still exit 3, but say where it was asked for
    throw model::HarnessFailure(
        fmt::format("{}:{}:{}: {}", file_, node.Mark().line + 1, node.Mark().column + 1, e.what()));
  }
  external_domain_ = domain->name();
  auto registry = std::make_shared<model::Registry>(model::Registry::extending(*registry_));
  try {
    registry->add(std::move(domain));
  } catch (const std::invalid_argument& e) {
    // What the process declared is wrong: its fault, not the file's.
    throw model::HarnessFailure(fmt::format("the external domain `{}` declared itself wrongly: {}",
                                            external_domain_, e.what()));
  }
  s.external = registry;
  registry_ = registry.get();
}

void Loader::bugs(const YAML::Node& node, Scenario& s) const {
  for (const YAML::Node& item : list(node, "bugs")) {
    const std::string name = text(item, "bugs entry");
    const auto bug = model::bug_by_name(name);
    if (!bug) {
      std::vector<std::string> all;
      for (const model::BugInfo& b : model::all_bugs()) all.emplace_back(b.name);
      fail(item,
           fmt::format("no bug variant '{}'{}; see 'essim list'", name, did_you_mean(name, all)));
    }
    s.spec.bugs.set(*bug);
  }
}

void Loader::required_probes(const YAML::Node& node, Scenario& s) const {
  if (!s.expect.pass) {
    fail(node,
         "require_probes is for scenarios that must pass (a bug scenario stops at its first "
         "catch); remove it or the expect section");
  }
  std::vector<std::string> known;
  for (const ProbeDeclaration& p : model::probes::known(*registry_->domain(s.spec.domain)))
    known.push_back(p.name);
  s.expect.required_probes = names(node, "require_probes");
  for (std::size_t i = 0; i < s.expect.required_probes.size(); ++i) {
    const std::string& name = s.expect.required_probes[i];
    if (std::find(s.expect.required_probes.begin(), s.expect.required_probes.begin() + i, name) !=
        s.expect.required_probes.begin() + i)
      fail(node[i], fmt::format("require_probes names '{}' twice", name));
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    fail(node[i], fmt::format("no probe '{}' is declared for the {} domain{}; `essim list` shows "
                              "the probes",
                              name, s.spec.domain, did_you_mean(name, known)));
  }
}

void Loader::properties(const Fields& f, Scenario& s) const {
  const std::vector<std::string> known =
      properties::property_names(*registry_->domain(s.spec.domain));
  const auto is_known = [&](const std::string& name) {
    return std::find(known.begin(), known.end(), name) != known.end();
  };
  if (f["properties"]) {
    s.properties = names(f["properties"], "properties");
    for (std::size_t i = 0; i < s.properties.size(); ++i) {
      const std::string& name = s.properties[i];
      if (is_known(name)) continue;
      const std::string guess = nearest(name, known);
      fail(f["properties"][i],
           fmt::format("no property '{}' for the {} domain{}", name, s.spec.domain,
                       guess.empty() ? "" : fmt::format("; did you mean '{}'?", guess)));
    }
  }
  if (f["expect"]) expect(f["expect"], s);
  if (f["require_probes"]) required_probes(f["require_probes"], s);
  if (s.expect.pass) return;
  if (!is_known(s.expect.violation)) {
    fail(f["expect"], fmt::format("expect.violation names no property of the {} domain: '{}'",
                                  s.spec.domain, s.expect.violation));
  }
  if (!s.properties.empty() && std::find(s.properties.begin(), s.properties.end(),
                                         s.expect.violation) == s.properties.end()) {
    fail(f["expect"], "expect.violation must be one of the scenario's properties");
  }
}

void Loader::topology(const YAML::Node& node, Scenario& s) const {
  const Fields f = open(node, schema::kTopologySection, "topology");
  if (f["clients"]) {
    s.spec.clients = static_cast<int>(integer(f["clients"], "topology.clients", 0, kClientsMax));
  }
  if (f["snapshot_every"]) {
    s.spec.snapshot_every = integer(f["snapshot_every"], "topology.snapshot_every", 0, 1'000'000);
  }
  if (f["store"]) store(f["store"], s);
  if (f["bus"]) bus(f["bus"], s);
  if (f["projections"]) projections(f["projections"], s);
}

void Loader::store(const YAML::Node& node, Scenario& s) const {
  const Fields f = open(node, schema::kStoreSection, "topology.store");
  model::StoreConfig& c = s.spec.store;
  if (f["group_commit"])
    c.group_commit_us = duration(f["group_commit"], "topology.store.group_commit");
  if (f["fsync"]) c.fsync_latency = range(f["fsync"], "topology.store.fsync");
  if (f["commit_delay_max"])
    c.commit_delay_max_us = duration(f["commit_delay_max"], "topology.store.commit_delay_max");
  if (f["pending_max"]) {
    c.pending_max = static_cast<std::uint32_t>(
        integer(f["pending_max"], "topology.store.pending_max", 1, 1'000'000));
  }
}

void Loader::bus(const YAML::Node& node, Scenario& s) const {
  const Fields f = open(node, schema::kBusSection, "topology.bus");
  model::BusConfig& c = s.spec.bus;
  if (f["poll_every"]) c.poll_every_us = duration(f["poll_every"], "topology.bus.poll_every", 1);
  if (f["redelivery_after"]) {
    c.redeliver_after_us = duration(f["redelivery_after"], "topology.bus.redelivery_after", 1);
  }
  if (f["window"])
    c.window = static_cast<std::uint32_t>(integer(f["window"], "topology.bus.window", 1, 100'000));
}

void Loader::projections(const YAML::Node& node, Scenario& s) const {
  const YAML::Node items = list(node, "topology.projections");
  if (items.size() > kProjectionsMax) {
    fail(items, fmt::format("topology.projections lists {} projections; at most {} may run",
                            items.size(), kProjectionsMax));
  }
  const model::Domain* domain = registry_->domain(s.spec.domain);
  std::set<std::string> taken;
  for (const YAML::Node& p : items) {
    const Fields f = open(p, schema::kProjectionSection, "a projection");
    ProjectionSpec spec;
    spec.name = text(f["name"], "a projection name", NameRule::kWord);
    spec.handler = text(f["handler"], "projection handler");
    const auto found = registry_->handler(spec.handler);
    if (!found) {
      fail(f["handler"], fmt::format("no projection handler '{}'{}; registered: {}", spec.handler,
                                     did_you_mean(spec.handler, registry_->handler_names()),
                                     fmt::join(registry_->handler_names(), ", ")));
    }
    if (found->domain != domain) {
      fail(f["handler"],
           fmt::format("'{}' is a handler of the {} domain, and this scenario runs the {} domain",
                       spec.handler, found->domain->name(), s.spec.domain));
    }
    if (f["dedup"]) {
      const std::string dedup = text(f["dedup"], "dedup");
      const auto d = model::dedup_by_name(dedup);
      if (!d)
        fail(f["dedup"],
             fmt::format("dedup must be none, event-id or atomic-checkpoint, not '{}'", dedup));
      spec.dedup = *d;
    }
    if (reserved_node_name(spec.name)) {
      fail(f["name"], fmt::format("'{}' is taken by another node or a crash-target role; name "
                                  "projections differently",
                                  spec.name));
    }
    if (s.spec.key_store && spec.name == model::kKeyStoreName) {
      fail(f["name"], fmt::format("'{}' is the key store's node (the {} domain declares personal "
                                  "data); name the projection differently",
                                  spec.name, s.spec.domain));
    }
    if (!taken.insert(spec.name).second)
      fail(f["name"], fmt::format("two projections named '{}'", spec.name));
    s.spec.projections.push_back(std::move(spec));
  }
}

void Loader::workload(const YAML::Node& node, Scenario& s) const {
  const Fields f = open(node, schema::kWorkloadSection, "workload");
  if (const YAML::Node rate = f["rate"]) {
    const std::string r = text(rate, "workload.rate");
    const auto parsed = sim::parse_rate(r);
    if (!parsed.ok()) {
      YAML::Mark mark = rate.Mark();
      mark.column += parsed.error().column - 1;
      fail(mark, fmt::format("workload.rate: {}", parsed.error().message));
    }
    // The rate is the whole workload's: each client runs its share.
    const double clients = std::max(1, s.spec.clients);
    s.spec.client_interval_us =
        std::max<sim::Micros>(1, static_cast<sim::Micros>(1e6 * clients / parsed.value()));
  }
  if (const YAML::Node mix = f["mix"]) {
    const model::Domain* d = registry_->domain(s.spec.domain);
    keys(mix, "workload.mix", d->work_kinds());
    s.spec.mix.clear();
    std::uint64_t total = 0;
    for (auto it = mix.begin(); it != mix.end(); ++it) {
      const std::string kind = it->first.Scalar();
      const auto weight =
          static_cast<std::uint32_t>(integer(it->second, "workload.mix." + kind, 0, 1'000'000));
      s.spec.mix.push_back({kind, weight});
      total += weight;
    }
    if (total == 0 && s.spec.clients > 0)
      fail(mix, "workload.mix needs at least one positive weight, or the clients have no work");
  }
}

FaultTargets Loader::targets(const YAML::Node& node, const Scenario& s) const {
  FaultTargets t{false, false, false, false, {}};
  const std::vector<std::string> roles{"store", "bus", "projections", "clients"};
  std::vector<std::string> valid = roles;
  for (const ProjectionSpec& p : s.spec.projections) valid.push_back(p.name);
  for (const YAML::Node& item : list(node, "faults.crashes.targets")) {
    const std::string name = text(item, "a crash target");
    if (name == "store") {
      t.store = true;
    } else if (name == "bus") {
      t.bus = true;
    } else if (name == "projections") {
      t.projections = true;
    } else if (name == "clients") {
      t.clients = true;
    } else if (std::find(valid.begin(), valid.end(), name) != valid.end()) {
      t.named.push_back(name);  // this projection only
    } else if (name == model::kKeyStoreName && s.spec.key_store) {
      fail(item, fmt::format("the key store '{}' is a crash target with 'store' (it crashes as "
                             "the event store does); name store",
                             name));
    } else {
      fail(item, fmt::format("crash targets are store, bus, projections, clients or a "
                             "projection's name, not '{}'{}",
                             name, did_you_mean(name, valid)));
    }
  }
  if (t.projections && s.spec.projections.empty())
    fail(node, "faults.crashes.targets names projections, but the topology has none");
  if (t.clients && s.spec.clients == 0)
    fail(node, "faults.crashes.targets names clients, but topology.clients is 0");
  if (!t.store && !t.bus && !t.projections && !t.clients && t.named.empty())
    fail(node, "faults.crashes.targets is empty: name the nodes that may crash, or drop crashes");
  return t;
}

void Loader::network(const YAML::Node& node, Scenario& s) const {
  const Fields f = open(node, schema::kNetworkSection, "faults.network");
  sim::NetworkFaults& n = s.spec.sim.network;
  if (f["latency"]) n.latency = range(f["latency"], "faults.network.latency");
  if (f["drop"]) n.drop = probability(f["drop"], "faults.network.drop");
  if (f["duplicate"]) n.duplicate = probability(f["duplicate"], "faults.network.duplicate");
  if (f["delay"]) n.delay = probability(f["delay"], "faults.network.delay");
  if (f["delay_extra"]) n.delay_extra = range(f["delay_extra"], "faults.network.delay_extra");
  if (f["reorder"]) n.reorder = probability(f["reorder"], "faults.network.reorder");
  if (f["jitter"]) n.reorder_jitter = range(f["jitter"], "faults.network.jitter");
  if (n.drop >= 1.0) fail(f["drop"], "faults.network.drop of 1 would cut every link for good");
}

void Loader::crashes(const YAML::Node& node, Scenario& s) const {
  const Fields f = open(node, schema::kCrashesSection, "faults.crashes");
  s.spec.crashes = true;
  s.spec.crash_every = range(f["every"], "faults.crashes.every");
  if (s.spec.crash_every.min_us <= 0) fail(f["every"], "faults.crashes.every must be positive");
  if (f["restart_after"])
    s.spec.restart_after = range(f["restart_after"], "faults.crashes.restart_after");
  if (f["targets"]) s.spec.crash_targets = targets(f["targets"], s);
}

void Loader::faults(const YAML::Node& node, Scenario& s) const {
  const Fields f = open(node, schema::kFaultsSection, "faults");
  if (f["network"]) network(f["network"], s);
  if (f["crashes"]) crashes(f["crashes"], s);
  if (const YAML::Node d = f["disk"]) {
    const Fields disk = open(d, schema::kDiskSection, "faults.disk");
    if (disk["torn_writes"])
      s.spec.sim.disk.torn_writes = flag(disk["torn_writes"], "faults.disk.torn_writes");
    if (disk["read_corruption"])
      s.spec.sim.disk.read_corruption =
          probability(disk["read_corruption"], "faults.disk.read_corruption");
    if (disk["sync_failures"])
      s.spec.sim.disk.sync_failures =
          probability(disk["sync_failures"], "faults.disk.sync_failures");
  }
  if (const YAML::Node p = f["partitions"]) {
    const Fields part = open(p, schema::kPartitionsSection, "faults.partitions");
    s.spec.partitions = true;
    s.spec.partition_every = range(part["every"], "faults.partitions.every");
    if (s.spec.partition_every.min_us <= 0)
      fail(part["every"], "faults.partitions.every must be positive");
    if (part["heal_after"])
      s.spec.heal_after = range(part["heal_after"], "faults.partitions.heal_after");
  }
  if (const YAML::Node c = f["clogs"]) {
    const Fields clogs = open(c, schema::kClogsSection, "faults.clogs");
    s.spec.clogs = true;
    s.spec.clog_every = range(clogs["every"], "faults.clogs.every");
    if (s.spec.clog_every.min_us <= 0) fail(clogs["every"], "faults.clogs.every must be positive");
    if (clogs["duration"]) s.spec.clog_duration = range(clogs["duration"], "faults.clogs.duration");
  }
  plan_bound(f, s);
}

// The fault plan is drawn whole before a run: refuse one that could grow
// past its bound, at the family that would grow it.
void Loader::plan_bound(const Fields& f, const Scenario& s) const {
  const sim::FaultPlanBound bound = sim::fault_plan_bound(fault_config(s.spec), s.spec.chaos_us);
  if (bound.total() <= sim::kFaultPlanEntriesMax) return;
  const char* family = "crashes";
  std::uint64_t most = bound.crashes;
  if (bound.partitions > most) family = "partitions", most = bound.partitions;
  if (bound.clogs > most) family = "clogs", most = bound.clogs;
  fail(f[family]["every"],
       fmt::format("faults.{}.every: a duration of {} could draw a fault plan of {} entries, more "
                   "than the {} a run may hold; raise the least time between faults or shorten "
                   "the duration",
                   family, sim::format_duration(s.spec.chaos_us), bound.total(),
                   sim::kFaultPlanEntriesMax));
}

void Loader::expect(const YAML::Node& node, Scenario& s) const {
  if (node.IsScalar()) {
    if (node.Scalar() != "pass") {
      fail(node, fmt::format(
                     "expect must be 'pass' or {{violation: PROPERTY, within_seeds: N}}, not '{}'",
                     printable(node.Scalar())));
    }
    return;
  }
  const Fields f = open(node, schema::kExpectSection, "expect");
  s.expect.pass = false;
  s.expect.violation = text(f["violation"], "expect.violation");
  s.expect.within_seeds = integer(f["within_seeds"], "expect.within_seeds", 1, kSeedsMax);
}

void Loader::operations(const YAML::Node& node, Scenario& s) const {
  if (list(node, "operations").size() > kOperationsMax) {
    fail(node, fmt::format("at most {} operations, not {}", kOperationsMax,
                           list(node, "operations").size()));
  }
  for (const YAML::Node& item : list(node, "operations")) {
    Operation op = operation(item, s, schema::kOperationSection, s.spec.chaos_us);
    for (const Operation& before : s.spec.operations) {
      if (op.kind == Operation::Kind::kRebuild && before.kind == op.kind &&
          before.target == op.target)
        fail(item, fmt::format("the projection '{}' is rebuilt twice; rebuild it once", op.target));
      if (op.kind != Operation::Kind::kRebuild && before == op)
        fail(item, fmt::format("{} is listed twice", describe(op)));
      if (op.kind == Operation::Kind::kForget && before.kind == op.kind &&
          before.target == op.target)
        fail(item, fmt::format("'{}' is forgotten twice (at {} and at {}); forget a subject once",
                               printable(op.target), sim::format_duration(before.at_us),
                               sim::format_duration(op.at_us)));
      if (op.kind == Operation::Kind::kRestore && before.kind == op.kind)
        fail(item, fmt::format("a second restore (at {}); a run restores once",
                               sim::format_duration(op.at_us)));
    }
    // The nodes it adds (none for a second backup or an audit) must be free.
    const std::vector<std::string> taken = node_names(s.spec);
    const std::vector<std::string> had = operation_node_names(s.spec);
    ClusterSpec with = s.spec;
    with.operations.push_back(op);
    for (const std::string& name : operation_node_names(with)) {
      const bool added = std::find(had.begin(), had.end(), name) == had.end();
      if (added && std::find(taken.begin(), taken.end(), name) != taken.end())
        fail(item, fmt::format("{} needs a node named '{}', which is taken", describe(op), name));
    }
    s.spec.operations.push_back(std::move(op));
  }
  // In any order in the file: a restore needs a backup with an earlier time.
  const auto backups = operations_of(s.spec.operations, Operation::Kind::kBackup);
  std::size_t index = 0;
  for (const YAML::Node& item : list(node, "operations")) {
    const Operation& op = s.spec.operations.at(index++);
    if (op.kind != Operation::Kind::kRestore) continue;
    if (std::none_of(backups.begin(), backups.end(),
                     [&](const Operation& b) { return b.at_us < op.at_us; }))
      fail(item, fmt::format("the restore at {} has no backup to restore: add a backup "
                             "operation with an earlier at (e.g. {{at: 1s, backup: store}})",
                             sim::format_duration(op.at_us)));
  }
}

// One operation: `at`, within the chaos phase, and one of a rebuild of a
// projection of the topology, an audit, a backup or a restore of the store.
Operation Loader::operation(const YAML::Node& node, const Scenario& s,
                            const schema::Section& section, sim::Micros chaos_us) const {
  const std::string where = section.path == "operations[]" ? "an operation" : "a repro operation";
  const Fields f = open(node, section, where);
  constexpr std::pair<const char*, Operation::Kind> kKinds[] = {
      {"rebuild", Operation::Kind::kRebuild},
      {"audit", Operation::Kind::kAudit},
      {"backup", Operation::Kind::kBackup},
      {"restore", Operation::Kind::kRestore},
      {"forget", Operation::Kind::kForget}};
  std::vector<std::string> given;
  Operation op;
  for (const auto& [key, kind] : kKinds) {
    if (!f[key]) continue;
    given.emplace_back(key);
    op.kind = kind;
  }
  if (given.size() != 1)
    fail(node, fmt::format("{} is exactly one of rebuild: PROJECTION, audit: store, backup: store, "
                           "restore: store or forget: SUBJECT{}",
                           where,
                           given.empty() ? std::string()
                                         : fmt::format(", not {}", fmt::join(given, " and "))));
  const std::string kind(to_string(op.kind));
  op.at_us = duration(f["at"], "at");
  if (op.at_us >= chaos_us) {
    fail(f["at"], fmt::format("{} {} at {} never starts: the chaos phase ends at {}",
                              op.kind == Operation::Kind::kAudit ? "an" : "a", kind,
                              sim::format_duration(op.at_us), sim::format_duration(chaos_us)));
  }
  const YAML::Node& target = f[kind.c_str()];
  op.target = text(target, kind);
  if (op.kind == Operation::Kind::kForget) {
    if (!s.spec.key_store)
      fail(target, fmt::format("forget: the {} domain declares no personal data "
                               "(Domain::personal_data), so there is nothing to forget",
                               s.spec.domain));
    return op;
  }
  if (op.kind != Operation::Kind::kRebuild) {
    if (op.target != "store")
      fail(target, fmt::format("{} acts on the store's log: write '{}: store', not '{}'", kind,
                               kind, printable(op.target)));
    return op;
  }
  std::vector<std::string> projections;
  for (const ProjectionSpec& p : s.spec.projections) projections.push_back(p.name);
  if (std::find(projections.begin(), projections.end(), op.target) == projections.end()) {
    fail(target, fmt::format("rebuild names no projection of the topology: '{}'{}",
                             printable(op.target), did_you_mean(op.target, projections)));
  }
  return op;
}

void Loader::swarm(const YAML::Node& node, Scenario& s) const {
  s.swarm = flag(node, "swarm");
  if (s.swarm && swarm_kinds(s.spec).empty()) {
    fail(node,
         "swarm: true draws each seed's mix of the scenario's faults, but it turns none on; add "
         "faults (crashes, partitions, clogs, network or disk faults) or remove swarm");
  }
}

// A repro's recorded mix: a strength from 0 to 1 for kinds the scenario
// turns on; a kind it leaves out runs as the file says.
SwarmDraw Loader::repro_swarm(const YAML::Node& node, const Scenario& s) const {
  if (!s.swarm) {
    fail(node,
         "repro.swarm is the fault mix of a swarm scenario, and this one has no "
         "'swarm: true'; add it or remove repro.swarm");
  }
  (void)open(node, schema::kReproSwarmSection, "repro.swarm");
  const std::vector<std::string_view> on = swarm_kinds(s.spec);
  SwarmDraw draw;
  for (const std::string_view kind : on) {
    const YAML::Node strength = node[std::string(kind)];
    if (!strength) continue;
    draw.kinds.push_back(
        {std::string(kind), probability(strength, fmt::format("repro.swarm.{}", kind))});
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string kind = it->first.Scalar();
    if (std::find(on.begin(), on.end(), kind) == on.end()) {
      fail(it->first,
           fmt::format("repro.swarm sets {}, which this scenario's faults leave off", kind));
    }
  }
  return draw;
}

void Loader::repro(const YAML::Node& node, Scenario& s) const {
  const Fields f = open(node, schema::kReproSection, "repro");
  auto d = std::make_shared<Decisions>();
  s.repro_seed = integer(f["seed"], "repro.seed", 0, UINT64_MAX);
  if (f["swarm"]) s.swarm_draw = repro_swarm(f["swarm"], s);
  d->chaos_us =
      f["chaos"] ? duration(f["chaos"], "repro.chaos", 1, sim::kChaosMax) : s.spec.chaos_us;
  d->torn_writes =
      f["torn_writes"] ? flag(f["torn_writes"], "repro.torn_writes") : s.spec.sim.disk.torn_writes;
  if (f["faults"]) {
    std::set<std::uint32_t> partitions;
    Scenario with_chaos = s;
    with_chaos.spec.chaos_us = d->chaos_us;
    for (const YAML::Node& item : list(f["faults"], "repro.faults"))
      d->faults.push_back(repro_fault(item, with_chaos, partitions));
  }
  if (f["messages"]) {
    for (const YAML::Node& item : list(f["messages"], "repro.messages"))
      d->messages.push_back(repro_message(item, s));
  }
  if (f["work"]) {
    for (const YAML::Node& item : list(f["work"], "repro.work"))
      d->work.push_back(repro_work(item, s, d->chaos_us));
  }
  // A repro runs the operations it lists, each one of the scenario's.
  if (f["operations"]) {
    for (const YAML::Node& item : list(f["operations"], "repro.operations")) {
      Operation op = operation(item, s, schema::kReproOperationSection, d->chaos_us);
      // A rebuild of the scenario's (shrinking keeps its time, a person may
      // move it); an audit exactly as the scenario has it.
      const bool scenarios =
          std::any_of(s.spec.operations.begin(), s.spec.operations.end(), [&](const Operation& o) {
            return o.kind == op.kind && o.target == op.target &&
                   (op.kind == Operation::Kind::kRebuild || o.at_us == op.at_us);
          });
      if (!scenarios)
        fail(item, op.kind == Operation::Kind::kRebuild
                       ? fmt::format("the scenario's operations have no rebuild of '{}'; a repro "
                                     "runs only the scenario's",
                                     op.target)
                       : fmt::format("the scenario's operations have no {}; a repro runs "
                                     "only the scenario's",
                                     describe(op)));
      for (const Operation& before : d->operations) {
        if (op.kind == Operation::Kind::kRebuild && before.kind == op.kind &&
            before.target == op.target)
          fail(item, fmt::format("the rebuild of '{}' is listed twice", op.target));
        if (op.kind != Operation::Kind::kRebuild && before == op)
          fail(item, fmt::format("the {} at {} is listed twice", to_string(op.kind),
                                 sim::format_duration(op.at_us)));
      }
      d->operations.push_back(std::move(op));
    }
  } else {
    d->operations = s.spec.operations;
  }
  s.spec.script = std::move(d);
}

// One fault decision. Crashes, partitions and clogs during the heal phase
// never fire; restarts and heals there are what the heal phase does anyway
// (and what a shrink writes), so they may reach the end of the run.
sim::FaultAction Loader::repro_fault(const YAML::Node& node, const Scenario& s,
                                     std::set<std::uint32_t>& partitions) const {
  const Fields f = open(node, schema::kReproFaultSection, "a repro fault");
  const std::vector<std::string> names = node_names(s.spec);
  std::vector<std::string> kinds;
  for (const char* k : {"crash", "restart", "partition", "heal", "clog"}) {
    if (f[k]) kinds.emplace_back(k);
  }
  if (kinds.size() != 1) {
    fail(node, fmt::format("a repro fault is exactly one of crash, restart, partition, heal or "
                           "clog, not {}",
                           kinds.empty() ? "none" : fmt::format("{}", fmt::join(kinds, " and "))));
  }
  const std::string& kind = kinds.front();
  if (kind != "partition" && (f["side_a"] || f["side_b"]))
    fail(f[f["side_a"] ? "side_a" : "side_b"], "side_a and side_b belong to a partition only");
  if (kind != "clog" && f["for"]) fail(f["for"], "'for' belongs to a clog only");
  sim::FaultAction a;
  const bool heal_like = kind == "restart" || kind == "heal";
  const sim::Micros end_us = heal_like ? s.spec.chaos_us + s.spec.heal_max_us : s.spec.chaos_us;
  a.at_us = duration(f["at"], "at");
  if (a.at_us >= end_us) {
    fail(f["at"], fmt::format("a {} at {} never fires: the {} ends at {}", kind,
                              sim::format_duration(a.at_us), heal_like ? "run" : "chaos phase",
                              sim::format_duration(end_us)));
  }
  if (kind == "crash" || kind == "restart") {
    a.kind = kind == "crash" ? sim::FaultKind::kCrash : sim::FaultKind::kRestart;
    a.node = node_id(f[kind], names);
  } else if (kind == "partition") {
    a.kind = sim::FaultKind::kPartition;
    a.partition = static_cast<std::uint32_t>(integer(f["partition"], "partition", 1, UINT32_MAX));
    if (!partitions.insert(a.partition).second)
      fail(f["partition"], fmt::format("partition {} is cut twice; number each once", a.partition));
    if (!f["side_a"] || !f["side_b"]) fail(node, "a partition needs side_a and side_b");
    std::set<sim::NodeId> seen;
    for (const char* side : {"side_a", "side_b"}) {
      auto& ids = std::string_view(side) == "side_a" ? a.side_a : a.side_b;
      for (const YAML::Node& n : list(f[side], side)) {
        ids.push_back(node_id(n, names));
        if (!seen.insert(ids.back()).second)
          fail(n, fmt::format("node '{}' is named twice in this partition", n.Scalar()));
      }
      if (ids.empty()) fail(f[side], fmt::format("{} of a partition must name a node", side));
    }
  } else if (kind == "heal") {
    a.kind = sim::FaultKind::kHeal;
    a.partition = static_cast<std::uint32_t>(integer(f["heal"], "heal", 1, UINT32_MAX));
    if (partitions.count(a.partition) == 0)
      fail(f["heal"], fmt::format("heal {} names no partition listed before it", a.partition));
  } else {
    a.kind = sim::FaultKind::kClog;
    const YAML::Node pair = list(f["clog"], "clog");
    if (pair.size() != 2) fail(pair, "clog names two nodes: [from, to]");
    a.node = node_id(pair[0], names);
    a.peer = node_id(pair[1], names);
    if (a.node == a.peer) fail(pair, "a clog is of a link between two different nodes");
    a.duration_us = f["for"] ? duration(f["for"], "for") : 0;
  }
  return a;
}

sim::MessageFate Loader::repro_message(const YAML::Node& node, const Scenario& s) const {
  const Fields f = open(node, schema::kReproMessageSection, "a repro message");
  const std::vector<std::string> names = node_names(s.spec);
  sim::MessageFate fate;
  fate.from = node_id(f["from"], names);
  fate.to = node_id(f["to"], names);
  fate.message = integer(f["message"], "message", 1, UINT64_MAX);
  const std::string kind = text(f["fate"], "fate");
  bool known = false;
  for (const auto k : {sim::MessageFate::Kind::kDrop, sim::MessageFate::Kind::kDuplicate,
                       sim::MessageFate::Kind::kDelay, sim::MessageFate::Kind::kReorder}) {
    if (sim::to_string(k) == kind) {
      fate.kind = k;
      known = true;
    }
  }
  if (!known)
    fail(f["fate"], fmt::format("fate must be drop, duplicate, delay or reorder, not '{}'", kind));
  const bool amount =
      fate.kind == sim::MessageFate::Kind::kDelay || fate.kind == sim::MessageFate::Kind::kReorder;
  if (amount && !f["by"]) fail(node, fmt::format("a {} needs 'by:', how long", kind));
  if (!amount && f["by"]) fail(f["by"], fmt::format("'by' does not apply to a {}", kind));
  if (amount) fate.amount_us = duration(f["by"], "by");
  return fate;
}

model::PlannedWork Loader::repro_work(const YAML::Node& node, const Scenario& s,
                                      sim::Micros chaos_us) const {
  const Fields f = open(node, schema::kReproWorkSection, "a repro work entry");
  model::PlannedWork p;
  p.client = static_cast<std::uint32_t>(integer(f["client"], "client", 0, kClientsMax));
  if (static_cast<int>(p.client) >= work_clients(s.spec))
    fail(f["client"], fmt::format("there is no client {}", p.client));
  p.at_us = duration(f["at"], "at");
  if (p.at_us >= chaos_us) {
    fail(f["at"], fmt::format("work at {} never starts: the chaos phase ends at {}",
                              sim::format_duration(p.at_us), sim::format_duration(chaos_us)));
  }
  p.kind = text(f["kind"], "kind");
  const auto kinds = registry_->domain(s.spec.domain)->work_kinds();
  if (std::find(kinds.begin(), kinds.end(), p.kind) == kinds.end())
    fail(f["kind"], fmt::format("the {} domain has no work '{}'", s.spec.domain, p.kind));
  p.seed = integer(f["seed"], "seed", 0, UINT64_MAX);
  return p;
}

}  // namespace

std::optional<SwarmDraw> seed_swarm(const Scenario& scenario, std::uint64_t seed) {
  if (scenario.swarm_draw) return scenario.swarm_draw;
  if (scenario.swarm) return draw_swarm(scenario.spec, seed);
  return std::nullopt;
}

ClusterSpec seed_spec(const Scenario& scenario, std::uint64_t seed) {
  const std::optional<SwarmDraw> draw = seed_swarm(scenario, seed);
  return draw ? apply_swarm(scenario.spec, *draw) : scenario.spec;
}

std::string nearest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = 4;
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

sim::Result<Scenario> parse_scenario(std::string_view text, const std::string& file,
                                     const model::Registry& registry) {
  try {
    check_text(text, file);
    const std::string owned(text);
    check_yaml(owned, file);
    const YAML::Node root = YAML::Load(owned);
    Scenario s = Loader(file, registry).load(root);
    s.source = owned;
    return s;
  } catch (const LoadError& e) {
    return sim::Error{e.message};
  } catch (const YAML::DeepRecursion& e) {
    return sim::Error{
        fmt::format("{}:{}:{}: lists and mappings are nested too deeply here; a "
                    "scenario needs a few levels",
                    file, std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1)};
  } catch (const YAML::ParserException& e) {
    return sim::Error{fmt::format("{}:{}:{}: not valid YAML: {}", file,
                                  std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1,
                                  e.msg)};
  } catch (const YAML::Exception& e) {
    // Every type is checked before use, so this is a gap in the loader; it
    // still names a place and exits 2.
    return sim::Error{fmt::format("{}:{}:{}: {}", file, std::max(e.mark.line, 0) + 1,
                                  std::max(e.mark.column, 0) + 1, e.msg)};
  }
}

namespace {

// Closes a descriptor when it goes out of scope.
struct Descriptor {
  int fd = -1;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

std::string_view file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

sim::Result<std::string> read_regular_file(const std::string& file, std::size_t max_bytes,
                                           std::string_view what) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer. Only regular
  // files are read, and never more than one byte past `max_bytes`.
  Descriptor in{::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (in.fd < 0) {
    return sim::Error{fmt::format("{}:1:1: cannot open the file: {}", file, std::strerror(errno))};
  }
  struct stat info {};
  if (::fstat(in.fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    return sim::Error{
        fmt::format("{}:1:1: this is {}, not {}", file, file_kind(info.st_mode), what)};
  }
  std::string text;
  char buffer[65536];
  while (text.size() <= max_bytes) {
    const ssize_t n = ::read(in.fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return sim::Error{
          fmt::format("{}:1:1: cannot read the file: {}", file, std::strerror(errno))};
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

sim::Result<Scenario> load_scenario(const std::string& file, const model::Registry& registry) {
  auto text = read_regular_file(file, kScenarioBytesMax, "a scenario file; give a .yaml file");
  if (!text.ok()) return text.error();
  return parse_scenario(text.value(), file, registry);
}

}  // namespace essim::harness
