#pragma once
// A move-only callable stored inside the object: no heap allocation, ever.
// Timers use it so that arming one allocates nothing in steady state. A
// callable too large for the buffer is a compile error, not a silent fallback.

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "sim/assert.h"

namespace essim::sim {

template <typename Signature, std::size_t Capacity = 64>
class InplaceFunction;

template <typename R, typename... Args, std::size_t Capacity>
class InplaceFunction<R(Args...), Capacity> {
 public:
  InplaceFunction() = default;

  template <typename F,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, InplaceFunction> &&
                                        std::is_invocable_r_v<R, std::decay_t<F>&, Args...>>>
  InplaceFunction(F&& f) {  // NOLINT(google-explicit-constructor)
    using Stored = std::decay_t<F>;
    static_assert(sizeof(Stored) <= Capacity,
                  "callable captures too much for InplaceFunction; capture a pointer or an id");
    static_assert(alignof(Stored) <= alignof(std::max_align_t), "callable is over-aligned");
    static_assert(std::is_nothrow_move_constructible_v<Stored>,
                  "callable must be nothrow move constructible");
    ::new (static_cast<void*>(storage_)) Stored(std::forward<F>(f));
    invoke_ = [](void* self, Args... args) -> R {
      return (*static_cast<Stored*>(self))(std::forward<Args>(args)...);
    };
    manage_ = [](void* target, void* source) noexcept {
      if (source != nullptr) {
        ::new (target) Stored(std::move(*static_cast<Stored*>(source)));
      }
      static_cast<Stored*>(source != nullptr ? source : target)->~Stored();
    };
  }

  InplaceFunction(InplaceFunction&& other) noexcept { take(other); }
  InplaceFunction& operator=(InplaceFunction&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  InplaceFunction(const InplaceFunction&) = delete;
  InplaceFunction& operator=(const InplaceFunction&) = delete;
  ~InplaceFunction() { reset(); }

  explicit operator bool() const { return invoke_ != nullptr; }

  R operator()(Args... args) {
    ESSIM_ASSERT_MSG(invoke_ != nullptr, "calling an empty InplaceFunction");
    return invoke_(storage_, std::forward<Args>(args)...);
  }

  void reset() {
    if (manage_ != nullptr) manage_(storage_, nullptr);
    invoke_ = nullptr;
    manage_ = nullptr;
  }

 private:
  // Moves other's callable into this (empty) object and leaves other empty.
  void take(InplaceFunction& other) noexcept {
    if (other.manage_ == nullptr) return;
    other.manage_(storage_, other.storage_);
    invoke_ = other.invoke_;
    manage_ = other.manage_;
    other.invoke_ = nullptr;
    other.manage_ = nullptr;
  }

  // Raw storage, constructed into by the converting constructor only.
  alignas(std::max_align_t) unsigned char storage_[Capacity];  // cppcheck-suppress uninitMemberVar
  R (*invoke_)(void*, Args...) = nullptr;
  // manage(target, source): with a source, move-constructs source into target
  // and destroys source; without one, destroys target.
  void (*manage_)(void*, void*) noexcept = nullptr;
};

}  // namespace essim::sim
