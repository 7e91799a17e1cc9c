// Everything a flow program needs.
#pragma once

#include "garcon/activity_execution.h"  // IWYU pragma: export
#include "garcon/app.h"                 // IWYU pragma: export
#include "garcon/clock.h"               // IWYU pragma: export
#include "garcon/decider.h"             // IWYU pragma: export
#include "garcon/engine.h"              // IWYU pragma: export
#include "garcon/flow.h"                // IWYU pragma: export
#include "garcon/payloads.h"            // IWYU pragma: export
#include "garcon/runner.h"              // IWYU pragma: export
#include "garcon/service.h"             // IWYU pragma: export
#include "garcon/status.h"              // IWYU pragma: export
#include "garcon/task.h"                // IWYU pragma: export
#include "garcon/version.h"             // IWYU pragma: export
#include "garcon/worker.h"              // IWYU pragma: export
