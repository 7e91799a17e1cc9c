// An AWS JSON 1.0 response read into a Result: the body of a 200, or the
// fault a 4xx/5xx names.
#pragma once

#include <string_view>

#include "garcon/service.h"
#include "garcon/status.h"

namespace garcon::client {

// - 200: the body as JSON ({} when empty); a body that is not JSON is
//   kInternalFailure.
// - otherwise, the fault named by the body's `__type` (the part after '#'),
//   else by the X-Amzn-ErrorType header (the part before ':'), with the
//   body's `message` or `Message`. A name FaultFromName does not know gives
//   kInternalFailure with the message "Name: message".
// - no fault named: 502, 503, 504 kServiceUnavailable; 429 kThrottling;
//   403 kAccessDenied; 413 kValidation; any other kInternalFailure; the
//   message says the HTTP status and starts the body.
Result<Json> ParseResponse(long http_status, std::string_view body,
                           std::string_view error_type_header);

}  // namespace garcon::client
