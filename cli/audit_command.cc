// `essim audit LOG` and `essim seal LOG`: a log file's CRCs and hash chain,
// and a keyed seal that catches what the chain cannot (model/audit.h).

#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "harness/scenario.h"
#include "model/audit.h"

namespace essim::cli {

namespace {

using model::AuditReport;
using model::SealCheck;

// The most of a log essim audit reads (it holds the whole file in memory).
constexpr std::size_t kLogBytesMax = std::size_t{1} << 30;

struct AuditArgs {
  std::string runner;   // "essim", or a user's runner
  std::string program;  // "essim audit", for messages
  std::string log;
  std::string seal;
  std::string key;
  std::string output;  // seal only
  bool json = false;
};

ByteView bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// The bytes of `file` (a regular file of at most `max_bytes`), or the message
// that makes the command exit 2.
sim::Result<std::string> read_input(const std::string& file, std::size_t max_bytes,
                                    std::string_view what) {
  auto text = harness::read_regular_file(file, max_bytes, what);
  if (!text.ok()) return text.error();
  if (text.value().size() > max_bytes) {
    return sim::Error{
        fmt::format("{}: larger than {} bytes, the most {} can be", file, max_bytes, what)};
  }
  return text;
}

sim::Result<std::string> read_key(const std::string& file) {
  auto key = read_input(file, model::kSealKeyBytesMax, "a key file");
  if (!key.ok()) return sim::Error{"--key " + key.error().message};
  if (const auto why = model::unusable_key(bytes_of(key.value()))) {
    return sim::Error{fmt::format(
        "--key {}: {}; make one with: head -c 32 /dev/urandom > {} (and keep it apart from the "
        "log)",
        file, *why, file)};
  }
  return key;
}

// Nothing in a non-empty file verifies and no good record follows: garbage,
// not a log (a log whose only record was torn reads the same).
bool not_a_log(const AuditReport& r) {
  return r.file_bytes > 0 && r.records == 0 && r.status == model::LogScan::Status::kTornTail;
}

std::string count(std::uint64_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

void print_seal_text(const SealCheck& s) {
  if (s.status != SealCheck::Status::kMatches) {
    fmt::print("seal: FAILED: {}\n", s.problem);
    return;
  }
  fmt::print(
      "seal: ok: the first {} ({} bytes) are the sealed ones; {} ({} bytes) appended "
      "after the seal\n",
      count(s.sealed_records, "record"), s.sealed_bytes, count(s.appended_records, "record"),
      s.appended_bytes);
}

void print_text(const AuditReport& r) {
  if (r.status == model::LogScan::Status::kClean) {
    fmt::print("ok: {}, {} bytes, chain head 0x{:016x}\n", count(r.records, "record"), r.file_bytes,
               r.chain_head);
  } else {
    fmt::print("FAILED: {}\n", r.problem);
    fmt::print("  the {} before it ({} bytes) verify; chain head 0x{:016x}\n",
               count(r.records, "record"), r.good_bytes, r.chain_head);
  }
  if (r.seal) print_seal_text(*r.seal);
}

nlohmann::json seal_json(const SealCheck& s) {
  return {{"ok", s.status == SealCheck::Status::kMatches},
          {"status", model::to_string(s.status)},
          {"sealed_records", s.sealed_records},
          {"sealed_bytes", s.sealed_bytes},
          {"appended_records", s.appended_records},
          {"appended_bytes", s.appended_bytes},
          {"problem", s.problem}};
}

void print_json(const AuditReport& r, const std::string& file) {
  nlohmann::json j = {{"file", file},
                      {"ok", r.ok()},
                      {"status", model::to_string(r.status)},
                      {"records", r.records},
                      {"good_bytes", r.good_bytes},
                      {"file_bytes", r.file_bytes},
                      {"chain_head", fmt::format("0x{:016x}", r.chain_head)},
                      {"first_bad", nullptr},
                      {"seal", nullptr}};
  if (r.status != model::LogScan::Status::kClean) {
    j["first_bad"] = {{"record", r.records},
                      {"offset", r.good_bytes},
                      {"defect", model::to_string(r.defect)},
                      {"problem", r.problem}};
  }
  if (r.seal) j["seal"] = seal_json(*r.seal);
  fmt::print("{}\n", j.dump(2));
}

int audit_command(const AuditArgs& a) {
  const auto log = read_input(a.log, kLogBytesMax, "a log file in essim's record format");
  if (!log.ok()) {
    fmt::print(stderr, "{}: {}\n", a.program, log.error().message);
    return kExitUsage;
  }
  AuditReport report;
  if (a.seal.empty()) {
    report = model::audit_log(bytes_of(log.value()));
  } else {
    const auto text = read_input(a.seal, model::kSealTextBytesMax, "a seal file");
    if (!text.ok()) {
      fmt::print(stderr, "{}: --seal {}\n", a.program, text.error().message);
      return kExitUsage;
    }
    const auto seal = model::parse_seal(text.value());
    if (!seal.ok()) {
      fmt::print(stderr, "{}: --seal {}: {}\n", a.program, a.seal, seal.error().message);
      return kExitUsage;
    }
    const auto key = read_key(a.key);
    if (!key.ok()) {
      fmt::print(stderr, "{}: {}\n", a.program, key.error().message);
      return kExitUsage;
    }
    report = model::audit_log(bytes_of(log.value()), seal.value(), bytes_of(key.value()));
  }
  if (not_a_log(report)) {
    fmt::print(stderr,
               "{}: {}: not a log in essim's record format: no record in it verifies (record 0: "
               "{}; a log torn in its first record reads the same)\n",
               a.program, a.log, report.wrong);
    return kExitUsage;
  }
  if (a.json) {
    print_json(report, a.log);
  } else {
    print_text(report);
  }
  return report.ok() ? kExitOk : kExitViolation;
}

// Why writing the seal to `output` is refused: it cannot be written, or it
// is the log or the key.
std::optional<std::string> bad_output(const AuditArgs& a) {
  if (const auto why = unwritable_file(a.output)) return why;
  std::error_code ec;
  for (const std::string* input : {&a.log, &a.key}) {
    if (std::filesystem::equivalent(a.output, *input, ec)) {
      return fmt::format("{} is the {} itself", a.output, input == &a.log ? "log" : "key");
    }
  }
  return std::nullopt;
}

int seal_command(const AuditArgs& a) {
  if (const auto why = bad_output(a)) {
    fmt::print(stderr, "{}: --output: {}\n", a.program, *why);
    return kExitUsage;
  }
  const auto log = read_input(a.log, kLogBytesMax, "a log file in essim's record format");
  const auto key = log.ok() ? read_key(a.key) : log.error();
  if (!key.ok()) {
    fmt::print(stderr, "{}: {}\n", a.program, key.error().message);
    return kExitUsage;
  }
  const auto seal = model::make_seal(bytes_of(log.value()), bytes_of(key.value()));
  if (!seal.ok()) {
    fmt::print(stderr, "{}: {}: {}\n", a.program, a.log, seal.error().message);
    return not_a_log(model::audit_log(bytes_of(log.value()))) ? kExitUsage : kExitViolation;
  }
  std::ofstream out(a.output, std::ios::binary | std::ios::trunc);
  out << model::format_seal(seal.value());
  out.close();
  if (!out) {
    fmt::print(stderr, "{}: cannot write {}\n", a.program, a.output);
    return kExitUsage;
  }
  fmt::print("sealed: {}, {} bytes, chain head 0x{:016x}; seal written to {}\n",
             count(seal.value().records, "record"), seal.value().bytes, seal.value().chain_head,
             a.output);
  fmt::print("check with: {} audit {} --seal {} --key {}\n", a.runner, a.log, a.output, a.key);
  return kExitOk;
}

constexpr std::string_view kAuditHelp =
    "Verify a log file in essim's record format (a store's events.log or snapshots.log): every\n"
    "record's length and CRC32C, and the hash chain that links each record to the one before.\n"
    "Prints 'ok: N records, B bytes, chain head H', or the first bad record: its index (from 0),\n"
    "byte offset and what is wrong (bad CRC, chain break, length past the end of the file), and\n"
    "whether it is a torn tail (nothing good after it: a write cut short, which recovery\n"
    "truncates) or corruption in the middle (a good record follows; recovery refuses appends).\n"
    "\n"
    "The chain catches any flipped bit and records removed, swapped or spliced in from another\n"
    "log. It cannot catch records removed from the end (a shorter log is still a valid log), nor\n"
    "a log rewritten as a whole: its hash is neither keyed nor cryptographic, so whoever can\n"
    "write the file can rebuild the chain. A seal can ('essim seal LOG --key KEY -o SEAL'): it\n"
    "records the log's record count, bytes, chain head and SHA-256 under an HMAC-SHA256 whose\n"
    "key is kept apart from the log. With --seal and --key, the log must still start with exactly\n"
    "the sealed records; records appended after the seal are allowed and counted.\n"
    "\n"
    "Exit codes: 0 the log verifies (and matches its seal); 1 it does not (the first bad record,\n"
    "a truncated or rewritten log, or a seal whose HMAC fails: a wrong key or an altered seal);\n"
    "2 the input cannot be audited (a missing, unreadable or non-regular file, a file larger\n"
    "than 1 GiB, a file in which no record verifies, a malformed seal or an unusable key).";

}  // namespace

Runner add_audit_command(CLI::App& app) {
  auto args = std::make_shared<AuditArgs>();
  args->runner = app.get_name();
  args->program = app.get_name() + " audit";
  CLI::App* audit = app.add_subcommand("audit", std::string(kAuditHelp));
  audit->footer("");  // its exit codes are in its description, not the runs' ones
  audit->add_option("log", args->log, "The log file")->required();
  CLI::Option* seal = audit->add_option(
      "--seal", args->seal,
      "A seal file 'essim seal' wrote: also check that the log starts with the sealed records");
  CLI::Option* key = audit->add_option(
      "--key", args->key, "The seal's key file (16 to 1024 bytes, all of them the key)");
  seal->needs(key);
  key->needs(seal);
  audit->add_flag("--json", args->json,
                  "Print the report as JSON (the same fields; errors with exit 2 go to stderr "
                  "as text)");
  return [args] { return audit_command(*args); };
}

Runner add_seal_command(CLI::App& app) {
  auto args = std::make_shared<AuditArgs>();
  args->runner = app.get_name();
  args->program = app.get_name() + " seal";
  CLI::App* seal = app.add_subcommand(
      "seal",
      "Seal a log that passes its audit: write its record count, bytes, chain head and SHA-256,\n"
      "under an HMAC-SHA256 with KEY, to a small text file. Keep the key apart from the log;\n"
      "'essim audit LOG --seal SEAL --key KEY' then catches a log truncated or rewritten since,\n"
      "and counts the records appended after the seal. Exit codes: 0 sealed; 1 the log fails its\n"
      "audit (nothing written); 2 bad input (see 'essim audit --help').");
  seal->footer("");
  seal->add_option("log", args->log, "The log file")->required();
  seal->add_option("--key", args->key,
                   "The key file: 16 to 1024 bytes, all of them the key (e.g. head -c 32 "
                   "/dev/urandom > audit.key)")
      ->required();
  seal->add_option("-o,--output", args->output, "The seal file to write")->required();
  return [args] { return seal_command(*args); };
}

}  // namespace essim::cli
