#pragma once
// Personal data and forgetting it (crypto-shredding): sealing a value with
// its subject's key, the tokens that replace sealed values, and the key
// store node that holds the keys and deletes one when its subject is
// forgotten (see PersonalData in <essim/domain.h>).
//
// A token is kTokenPrefix, the subject in hex, '.', then in hex the 12-byte
// nonce, the ciphertext and the 16-byte tag of AES-256-GCM (OpenSSL) over
// the value, the subject being the additional data. The nonce is derived
// from the event's id and the field's index, so the same seed seals the same
// bytes, and no two values sealed under one key share a nonce.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "model/domain.h"
#include "model/messages.h"
#include "sim/env.h"

namespace essim::model {

inline constexpr std::size_t kSubjectKeyBytes = 32;
inline constexpr std::string_view kTokenPrefix = "pii1.";
inline constexpr std::string_view kKeysFile = "keys.state";
inline constexpr std::string_view kKeyStoreName = "keys";

// `plaintext` sealed with `key` (kSubjectKeyBytes) for `subject`, as a token.
std::string seal_value(std::string_view subject, ByteView key, const EventId& event,
                       std::uint32_t field, std::string_view plaintext);
// The plaintext of `token` under `key`; nullopt when `token` is no token or
// `key` does not open it (another subject's key, a changed byte).
std::optional<std::string> open_token(std::string_view token, ByteView key);
// A key derived from `subject` alone (SHA-256 of it): for sealing where
// there is no key store (essim fuzz), never in a run.
Bytes derived_key(std::string_view subject);
// The subject `token` names; nullopt when it is no token.
std::optional<std::string> token_subject(std::string_view token);
// Where tokens lie in `text`, [begin, end) each, in order.
struct TokenSpan {
  std::size_t begin = 0;
  std::size_t end = 0;
};
std::vector<TokenSpan> token_spans(std::string_view text);
// `bytes` with every token in them overwritten by zero bytes (same length):
// what is left to search for plaintext, which a token's hex could match by chance.
void blank_tokens(Bytes& bytes);
// `text` with every token in it shown as "<sealed: SUBJECT>" (for evidence:
// neither the ciphertext nor, ever, the plaintext).
std::string mask_tokens(std::string_view text);
// `value` is a token of `subject`, or kForgotten: as a sealed field should be.
bool seals_for(std::string_view value, std::string_view subject);
// The longest personal value or subject essim seals (a domain's longer one
// is reported as its failure).
inline constexpr std::size_t kPersonalBytesMax = 1U << 20;

// A domain's PersonalData by event type (Domain::personal_data(), asked once).
class PersonalIndex {
 public:
  PersonalIndex() = default;
  explicit PersonalIndex(const Domain& domain);
  bool empty() const { return by_type_.empty(); }
  const PersonalData* find(std::string_view type) const;

 private:
  std::map<std::string, PersonalData, std::less<>> by_type_;
};

// `event`'s subject, and its payload with every personal value passed
// through `map` (the domain's code, called through the user-code boundary).
std::string personal_subject(const PersonalData& data, const Event& event);
Bytes rewrite_personal(const PersonalData& data, const Event& event,
                       const std::function<std::string(const std::string&)>& map);

// Kept outside the system (like the History), for the oracle: every value a
// writer sealed, by subject, and every forget the key store made durable.
struct PersonalLedger {
  std::map<std::string, std::set<std::string>, std::less<>> sealed;
  // Where each value came from: "CustomerRegistered, personal value 2".
  std::map<std::string, std::string, std::less<>> origins;
  struct Forgotten {
    std::string subject;
    Micros at_us = 0;
    Bytes key;  // the key deleted (empty: the subject had none)
  };
  std::vector<Forgotten> forgotten;
  bool forgotten_subject(std::string_view subject) const;
};

struct KeyStoreConfig {
  // The operator's requests to forget a subject (scenario operations
  // `forget: SUBJECT`), each carried out at its time, or when the key store
  // is next up.
  struct Forget {
    Micros at_us = 0;
    std::string subject;
  };
  std::vector<Forget> forgets;
  PersonalLedger* ledger = nullptr;
};

// The key store: one key per subject, made on a writer's first request (from
// the node's Rng, so the seed fixes it) and durable before it is given out;
// forgetting deletes the key and remembers the subject as forgotten, durably
// (the whole key file is replaced, so the deleted key's bytes are gone from
// the disk), and a forgotten subject never gets a key again. Its file is one
// checksummed record, read reliably at recovery.
//
// The subject is kept in clear: in every token (so that a reader knows
// whose key opens it) and in the key store's list of forgotten subjects. It
// must be an opaque id (a customer's number), never personal data itself (an
// email address). Keys come from the node's Rng, as all randomness in a
// simulation does; a live key store would draw them from a secure source.
class KeyStoreNode final : public sim::Node {
 public:
  explicit KeyStoreNode(KeyStoreConfig config);
  void on_start(sim::Env& env) override;
  void on_message(sim::Env& env, const sim::Message& message) override;

 private:
  // False when the node fail-stopped (its key file could not be written).
  [[nodiscard]] bool forget(sim::Env& env, const std::string& subject);
  [[nodiscard]] bool persist(sim::Env& env);

  KeyStoreConfig config_;
  std::map<std::string, Bytes, std::less<>> keys_;
  std::set<std::string, std::less<>> forgotten_;
  Bytes scratch_;
};

}  // namespace essim::model
