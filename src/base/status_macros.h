// The short names of the Status macros of garcon/status.h, for the library's
// own sources. Not installed: the public headers define only
// GARCON_-prefixed macros, so nothing leaks into a user's program.
#pragma once

#include "garcon/status.h"

#define RETURN_IF_ERROR(expr) GARCON_RETURN_IF_ERROR(expr)
#define ASSIGN_OR_RETURN(lhs, expr) GARCON_ASSIGN_OR_RETURN(lhs, expr)
