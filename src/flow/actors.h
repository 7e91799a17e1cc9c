// What the decider and the activity worker share about themselves: the
// identity they give the engine, and how they hand an error to the flow's
// exception handler.
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "garcon/flow.h"

namespace garcon::flow {

// `{host}:{pid}:{role}`, recorded in the *TaskStarted events.
std::string DefaultIdentity(std::string_view role);

// Calls `handler` (if any) with the actor and the error; an exception the
// handler throws is logged, never propagated.
void ReportException(const ExceptionHandler& handler, const std::string& actor,
                     const std::exception& error);

}  // namespace garcon::flow
