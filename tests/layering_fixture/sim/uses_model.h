#pragma once
// Fixture for the layering check's own test: sim/ must not include model/.
#include "model/event.h"
