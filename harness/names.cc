#include "harness/names.h"

#include <fmt/format.h>

namespace essim::harness {

namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// Reads one UTF-8 sequence at text[i]: its code point and length, or length
// 0 when it is not valid.
std::size_t utf8_sequence(std::string_view text, std::size_t i, char32_t& code) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  char32_t min = 0;
  if (lead < 0x80) {
    code = lead;
    return 1;
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, code = lead & 0x1FU, min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, code = lead & 0x0FU, min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, code = lead & 0x07U, min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(k) & 0xC0U) != 0x80) return 0;
    code = (code << 6U) | (byte(k) & 0x3FU);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

bool is_control(char32_t code) {
  return code < 0x20 || (code >= 0x7F && code <= 0x9F);
}

}  // namespace

std::size_t utf8_valid_prefix(std::string_view text) {
  std::size_t i = 0;
  char32_t code = 0;
  while (i < text.size()) {
    const std::size_t n = utf8_sequence(text, i, code);
    if (n == 0) return i;
    i += n;
  }
  return i;
}

std::string name_problem(std::string_view text, NameRule rule) {
  if (rule == NameRule::kWord) {
    if (text.empty()) return "must not be empty";
    if (text.size() > kWordBytesMax) return fmt::format("is longer than {} bytes", kWordBytesMax);
    for (const char c : text) {
      if (!is_word_char(c)) {
        return fmt::format("may hold only letters, digits, '_', '.' and '-', not '{}'",
                           printable(std::string_view(&c, 1)));
      }
    }
    return "";
  }
  const std::size_t max = rule == NameRule::kText ? kTextBytesMax : kProseBytesMax;
  if (rule == NameRule::kText && text.empty()) return "must not be empty";
  if (text.size() > max) return fmt::format("is longer than {} bytes", max);
  std::size_t i = 0;
  char32_t code = 0;
  while (i < text.size()) {
    const std::size_t n = utf8_sequence(text, i, code);
    if (n == 0) return fmt::format("is not valid UTF-8 (byte {} of it)", i + 1);
    if (is_control(code) && !(rule == NameRule::kProse && code == '\n')) {
      return fmt::format("holds a control character (U+{:04X}); {}", static_cast<unsigned>(code),
                         rule == NameRule::kProse ? "only newlines are allowed"
                                                  : "it must be one line of printable text");
    }
    i += n;
  }
  return "";
}

std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) {
      out += c;
    } else {
      out += fmt::format("\\x{:02X}", static_cast<unsigned>(u));
    }
  }
  return out;
}

}  // namespace essim::harness
