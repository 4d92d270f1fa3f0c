#pragma once
// Expected failures are values (STYLE.md): a Result<T> holds a T or an Error.

#include <string>
#include <utility>
#include <variant>

#include "sim/assert.h"

namespace essim::sim {

struct Error {
  std::string message;
  // 1-based column in the text that was parsed, 0 when not about a text.
  int column = 0;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    ESSIM_ASSERT_MSG(ok(), "Result::value() on an error");
    return std::get<0>(data_);
  }
  T&& value() && {
    ESSIM_ASSERT_MSG(ok(), "Result::value() on an error");
    return std::get<0>(std::move(data_));
  }
  const Error& error() const {
    ESSIM_ASSERT_MSG(!ok(), "Result::error() on a value");
    return std::get<1>(data_);
  }

 private:
  std::variant<T, Error> data_;
};

}  // namespace essim::sim
