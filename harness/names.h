#pragma once
// The one validator for names and texts read from scenario files. Every
// string a scenario holds ends up in reports, traces, HTML and ShiViz files,
// so each kind of name has one rule, checked when the file is loaded.

#include <cstddef>
#include <string>
#include <string_view>

namespace essim::harness {

enum class NameRule {
  kWord,   // node names: 1..64 of [A-Za-z0-9_.-]
  kText,   // the scenario's name and every other string: 1..200 bytes of
           // UTF-8 without control characters
  kProse,  // description: 0..4000 bytes of UTF-8 without control characters
           // other than newline
};

inline constexpr std::size_t kWordBytesMax = 64;
inline constexpr std::size_t kTextBytesMax = 200;
inline constexpr std::size_t kProseBytesMax = 4000;

// Empty when `text` obeys `rule`; else what is wrong, to follow "X ...".
std::string name_problem(std::string_view text, NameRule rule);

// The length of the longest valid UTF-8 prefix of `text`: text.size() when
// all of it is valid. Overlong forms, surrogates and code points past
// U+10FFFF are invalid.
std::size_t utf8_valid_prefix(std::string_view text);

// `text` with every byte outside printable ASCII written as \xNN, to quote
// a rejected value in a message without passing its bytes on.
std::string printable(std::string_view text);

}  // namespace essim::harness
