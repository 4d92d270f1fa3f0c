#pragma once
// Fixture: model/ may include sim/.
#include "sim/env.h"
