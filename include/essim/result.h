#pragma once
// Expected failures are values: a Result<T> holds a T or an Error.
//
// A decider answers a command it refuses with an Error (`return
// essim::Error{"not enough points"};`); a codec answers bytes it cannot read
// with one. Asking a Result for the side it does not hold is a bug of the
// caller and stops the program with a message.

#include <string>
#include <utility>
#include <variant>

namespace essim {

struct Error {
  std::string message;
  // 1-based column in the text that was parsed, 0 when not about a text.
  int column = 0;
};

namespace detail {
[[noreturn]] void result_misused(const char* what);
}  // namespace detail

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    if (!ok()) [[unlikely]]
      detail::result_misused("Result::value() on an error");
    return std::get<0>(data_);
  }
  T&& value() && {
    if (!ok()) [[unlikely]]
      detail::result_misused("Result::value() on an error");
    return std::get<0>(std::move(data_));
  }
  const Error& error() const {
    if (ok()) [[unlikely]]
      detail::result_misused("Result::error() on a value");
    return std::get<1>(data_);
  }

 private:
  std::variant<T, Error> data_;
};

}  // namespace essim
