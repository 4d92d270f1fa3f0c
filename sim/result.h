#pragma once
// Expected failures are values (STYLE.md): essim::Result and essim::Error,
// public (include/essim/result.h), named here for the layers' own code.

#include <essim/result.h>

namespace essim::sim {
using essim::Error;
using essim::Result;
}  // namespace essim::sim
