#pragma once
// essim's exit codes (DESIGN.md, "Command line and exit codes").

namespace essim::cli {

inline constexpr int kExitOk = 0;         // every run met its expectation
inline constexpr int kExitViolation = 1;  // a property was violated
inline constexpr int kExitUsage = 2;      // bad input or command line
inline constexpr int kExitInternal = 3;   // the harness itself failed

}  // namespace essim::cli
