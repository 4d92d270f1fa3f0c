#include "model/personal.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <stdexcept>

#include "model/log.h"
#include "model/trace_notes.h"
#include "model/user_code.h"
#include "sim/assert.h"

namespace essim::model {

namespace {

constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;

using Nonce = std::array<std::uint8_t, kNonceBytes>;
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext new_context() {
  CipherContext context(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  ESSIM_ASSERT_MSG(context != nullptr, "OpenSSL could not make a cipher context");
  return context;
}

// Unique per (event, field): SHA-256 of both, its first 12 bytes.
Nonce nonce_for(const EventId& event, std::uint32_t field) {
  Bytes input;
  Writer w(input);
  w.u64(event.hi);
  w.u64(event.lo);
  w.u32(field);
  std::array<std::uint8_t, 32> digest{};
  unsigned int length = 0;
  const int ok =
      EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha256(), nullptr);
  ESSIM_ASSERT_MSG(ok == 1 && length == digest.size(), "OpenSSL SHA-256 failed");
  Nonce nonce{};
  std::copy_n(digest.begin(), kNonceBytes, nonce.begin());
  return nonce;
}

// A length OpenSSL takes (an int). A value that long is the domain's doing:
// thrown, it is reported as the domain's failure, not essim's.
int length_of(std::size_t n) {
  if (n > kPersonalBytesMax) {
    throw std::length_error(
        fmt::format("a personal value or subject of {} bytes (at most {})", n, kPersonalBytesMax));
  }
  return static_cast<int>(n);
}

const auto* bytes_of(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

void append_hex(std::string& out, ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (const std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
}

std::optional<Bytes> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  Bytes out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = digit(text[i]);
    const int lo = digit(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

// A token's subject (decoded) and sealed bytes (nonce, ciphertext, tag).
struct TokenParts {
  std::string subject;
  Bytes sealed;
};

std::optional<TokenParts> parse_token(std::string_view token) {
  if (!token.starts_with(kTokenPrefix)) return std::nullopt;
  token.remove_prefix(kTokenPrefix.size());
  const std::size_t dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto subject = from_hex(token.substr(0, dot));
  auto sealed = from_hex(token.substr(dot + 1));
  if (!subject || !sealed || sealed->size() < kNonceBytes + kTagBytes) return std::nullopt;
  return TokenParts{std::string(subject->begin(), subject->end()), std::move(*sealed)};
}

bool is_token_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '.';
}

}  // namespace

std::string seal_value(std::string_view subject, ByteView key, const EventId& event,
                       std::uint32_t field, std::string_view plaintext) {
  ESSIM_ASSERT_MSG(key.size() == kSubjectKeyBytes, "a subject key has 32 bytes");
  const Nonce nonce = nonce_for(event, field);
  Bytes sealed(kNonceBytes + plaintext.size() + kTagBytes);
  std::copy(nonce.begin(), nonce.end(), sealed.begin());
  const int subject_length = length_of(subject.size());
  const int length = length_of(plaintext.size());
  const CipherContext context = new_context();
  int aad = 0;
  int written = 0;
  int last = 0;
  // Each call returns 1 on success (a ctrl may return -1 too).
  const bool ok =
      EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) ==
          1 &&
      EVP_EncryptUpdate(context.get(), nullptr, &aad, bytes_of(subject), subject_length) == 1 &&
      EVP_EncryptUpdate(context.get(), sealed.data() + kNonceBytes, &written, bytes_of(plaintext),
                        length) == 1 &&
      EVP_EncryptFinal_ex(context.get(), sealed.data() + kNonceBytes + written, &last) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          sealed.data() + kNonceBytes + plaintext.size()) == 1;
  ESSIM_ASSERT_MSG(ok && written + last == length, "OpenSSL AES-256-GCM failed to seal");
  std::string token(kTokenPrefix);
  append_hex(token, ByteView(bytes_of(subject), subject.size()));
  token.push_back('.');
  append_hex(token, sealed);
  return token;
}

std::optional<std::string> open_token(std::string_view token, ByteView key) {
  if (key.size() != kSubjectKeyBytes) return std::nullopt;
  auto parts = parse_token(token);
  if (!parts) return std::nullopt;
  const Bytes& sealed = parts->sealed;
  const std::size_t size = sealed.size() - kNonceBytes - kTagBytes;
  if (size > kPersonalBytesMax || parts->subject.size() > kPersonalBytesMax) return std::nullopt;
  std::string plaintext(size, '\0');
  Bytes tag(sealed.end() - kTagBytes, sealed.end());
  const CipherContext context = new_context();
  int aad = 0;
  int written = 0;
  int last = 0;
  // The tag is checked by the final call: a wrong key or a changed byte fails.
  const bool ok =
      EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key.data(), sealed.data()) ==
          1 &&
      EVP_DecryptUpdate(context.get(), nullptr, &aad, bytes_of(parts->subject),
                        static_cast<int>(parts->subject.size())) == 1 &&
      EVP_DecryptUpdate(context.get(), reinterpret_cast<unsigned char*>(plaintext.data()), &written,
                        sealed.data() + kNonceBytes, static_cast<int>(size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                          tag.data()) == 1 &&
      EVP_DecryptFinal_ex(context.get(),
                          reinterpret_cast<unsigned char*>(plaintext.data()) + written, &last) == 1;
  if (!ok || written < 0 || last < 0 ||
      static_cast<std::size_t>(written) + static_cast<std::size_t>(last) != size)
    return std::nullopt;
  return plaintext;
}

Bytes derived_key(std::string_view subject) {
  Bytes key(kSubjectKeyBytes);
  unsigned int length = 0;
  const int ok =
      EVP_Digest(subject.data(), subject.size(), key.data(), &length, EVP_sha256(), nullptr);
  ESSIM_ASSERT_MSG(ok == 1 && length == key.size(), "OpenSSL SHA-256 failed");
  return key;
}

std::optional<std::string> token_subject(std::string_view token) {
  auto parts = parse_token(token);
  if (!parts) return std::nullopt;
  return std::move(parts->subject);
}

std::vector<TokenSpan> token_spans(std::string_view text) {
  std::vector<TokenSpan> spans;
  std::size_t at = 0;
  while (true) {
    const std::size_t found = text.find(kTokenPrefix, at);
    if (found == std::string_view::npos) break;
    // Hex, one dot, hex: a dot after that is the text's own.
    std::size_t end = found + kTokenPrefix.size();
    bool dotted = false;
    while (end < text.size() && is_token_char(text[end])) {
      if (text[end] == '.') {
        if (dotted) break;
        dotted = true;
      }
      ++end;
    }
    spans.push_back({found, end});
    at = end;
  }
  return spans;
}

void blank_tokens(Bytes& bytes) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  for (const TokenSpan& span : token_spans(text)) {
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(span.begin),
              bytes.begin() + static_cast<std::ptrdiff_t>(span.end), std::uint8_t{0});
  }
}

std::string mask_tokens(std::string_view text) {
  std::string out;
  std::size_t at = 0;
  for (const TokenSpan& span : token_spans(text)) {
    const std::size_t found = span.begin;
    const std::size_t end = span.end;
    out.append(text.substr(at, found - at));
    const auto subject = token_subject(text.substr(found, end - found));
    if (subject) {
      std::string shown = *subject;
      for (char& c : shown) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
      }
      out += fmt::format("<sealed: {}>", shown);
    } else {
      out.append(text.substr(found, end - found));
    }
    at = end;
  }
  out.append(text.substr(at));
  return out;
}

bool seals_for(std::string_view value, std::string_view subject) {
  if (value == kForgotten) return true;
  const auto sealed_for = token_subject(value);
  return sealed_for && *sealed_for == subject;
}

PersonalIndex::PersonalIndex(const Domain& domain) {
  for (PersonalData& data : call_user([] { return std::string("listing the personal data"); },
                                      [&] { return domain.personal_data(); })) {
    std::string type = data.type;
    by_type_.insert_or_assign(std::move(type), std::move(data));
  }
}

const PersonalData* PersonalIndex::find(std::string_view type) const {
  const auto it = by_type_.find(type);
  return it == by_type_.end() ? nullptr : &it->second;
}

std::string personal_subject(const PersonalData& data, const Event& event) {
  return call_user([&] { return "naming the subject of event " + describe(event); },
                   [&] { return data.subject(event); });
}

Bytes rewrite_personal(const PersonalData& data, const Event& event,
                       const std::function<std::string(const std::string&)>& map) {
  return call_user([&] { return "rewriting the personal data of event " + describe(event); },
                   [&] { return data.rewrite(event, map); });
}

bool PersonalLedger::forgotten_subject(std::string_view subject) const {
  return std::any_of(forgotten.begin(), forgotten.end(),
                     [&](const Forgotten& f) { return f.subject == subject; });
}

KeyStoreNode::KeyStoreNode(KeyStoreConfig config) : config_(std::move(config)) {}

void KeyStoreNode::on_start(sim::Env& env) {
  keys_.clear();
  forgotten_.clear();
  const std::optional<Bytes> read = read_single_record(env.storage(), kKeysFile);
  if (!read) {
    env.fail_stop(
        fmt::format("recovery: no read of {} could be trusted (reads disagree)", kKeysFile));
    return;
  }
  const ByteView body = single_record_body(*read);
  if (!read->empty() && body.empty()) {
    env.fail_stop(fmt::format("recovery: {} is not one whole record", kKeysFile));
    return;
  }
  Reader r(body);
  const std::size_t keys = body.empty() ? 0 : r.count(2);
  for (std::size_t i = 0; i < keys && r.ok(); ++i) {
    std::string subject = r.string();
    keys_[std::move(subject)] = r.bytes();
  }
  const std::size_t forgotten = body.empty() ? 0 : r.count(1);
  for (std::size_t i = 0; i < forgotten && r.ok(); ++i) forgotten_.insert(r.string());
  if (!r.ok()) {
    env.fail_stop(fmt::format("recovery: {} does not decode: {}", kKeysFile, r.error()));
    return;
  }
  // A forget whose time has come (while the node was down, say) is carried
  // out now; the others at their time.
  for (std::size_t i = 0; i < config_.forgets.size(); ++i) {
    const KeyStoreConfig::Forget& f = config_.forgets[i];
    if (forgotten_.contains(f.subject)) continue;
    if (f.at_us <= env.now()) {
      // Before any request is served: no key goes out after its forget's time.
      if (!forget(env, f.subject)) return;
      continue;
    }
    env.set_timer(f.at_us - env.now(),
                  [this, i](sim::Env& e) { (void)forget(e, config_.forgets[i].subject); });
  }
}

bool KeyStoreNode::forget(sim::Env& env, const std::string& subject) {
  if (forgotten_.contains(subject)) return true;
  Bytes key;
  if (const auto it = keys_.find(subject); it != keys_.end()) {
    key = it->second;
    keys_.erase(it);
  }
  forgotten_.insert(subject);
  if (!persist(env)) return false;
  env.note(notes::kForgotten, forgotten_.size(), key.empty() ? 0 : 1);
  if (config_.ledger != nullptr)
    config_.ledger->forgotten.push_back({subject, env.now(), std::move(key)});
  return true;
}

bool KeyStoreNode::persist(sim::Env& env) {
  Bytes body;
  Writer w(body);
  w.varint(keys_.size());
  for (const auto& [subject, key] : keys_) {
    w.string(subject);
    w.bytes(key);
  }
  w.varint(forgotten_.size());
  for (const std::string& subject : forgotten_) w.string(subject);
  return write_single_record(env, kKeysFile, body);
}

void KeyStoreNode::on_message(sim::Env& env, const sim::Message& m) {
  auto decoded = decode(m.bytes);
  if (!decoded.ok()) {
    env.log("keys: dropped an undecodable message: " + decoded.error().message);
    return;
  }
  const auto* request = std::get_if<KeyRequest>(&decoded.value());
  if (request == nullptr) return;
  KeyReply reply;
  reply.request_id = request->request_id;
  reply.subject = request->subject;
  if (forgotten_.contains(request->subject)) {
    reply.status = KeyReply::Status::kForgotten;
  } else if (const auto it = keys_.find(request->subject); it != keys_.end()) {
    reply.status = KeyReply::Status::kKey;
    reply.key = it->second;
  } else if (request->create && !request->subject.empty()) {
    Bytes key(kSubjectKeyBytes);
    for (std::size_t i = 0; i < key.size(); i += 8) {
      const std::uint64_t word = env.rng().next();
      for (std::size_t b = 0; b < 8; ++b) key[i + b] = static_cast<std::uint8_t>(word >> (8 * b));
    }
    keys_[request->subject] = key;
    // Durable before it is given out: a key lost in a crash would make what
    // was sealed with it unreadable, a forget nobody asked for.
    if (!persist(env)) return;
    reply.status = KeyReply::Status::kKey;
    reply.key = std::move(key);
  }
  encode_into(reply, scratch_);
  env.send(m.from, scratch_);
}

}  // namespace essim::model
