#include "garcon/status.h"

#include <array>
#include <utility>

namespace garcon {
namespace {

struct FaultInfo {
  Fault fault;
  std::string_view name;
  int http_status;
};

constexpr std::array kFaults = {
    FaultInfo{Fault::kOk, "OK", 200},
    FaultInfo{Fault::kUnknownResource, "UnknownResourceFault", 400},
    FaultInfo{Fault::kDomainAlreadyExists, "DomainAlreadyExistsFault", 400},
    FaultInfo{Fault::kDomainDeprecated, "DomainDeprecatedFault", 400},
    FaultInfo{Fault::kTypeAlreadyExists, "TypeAlreadyExistsFault", 400},
    FaultInfo{Fault::kTypeDeprecated, "TypeDeprecatedFault", 400},
    FaultInfo{Fault::kTypeNotDeprecated, "TypeNotDeprecatedFault", 400},
    FaultInfo{Fault::kWorkflowExecutionAlreadyStarted,
              "WorkflowExecutionAlreadyStartedFault", 400},
    FaultInfo{Fault::kDefaultUndefined, "DefaultUndefinedFault", 400},
    FaultInfo{Fault::kLimitExceeded, "LimitExceededFault", 400},
    FaultInfo{Fault::kOperationNotPermitted, "OperationNotPermittedFault", 400},
    FaultInfo{Fault::kTooManyTags, "TooManyTagsFault", 400},
    FaultInfo{Fault::kValidation, "ValidationException", 400},
    FaultInfo{Fault::kSerialization, "SerializationException", 400},
    FaultInfo{Fault::kUnknownOperation, "UnknownOperationException", 400},
    FaultInfo{Fault::kThrottling, "ThrottlingException", 400},
    FaultInfo{Fault::kAccessDenied, "AccessDeniedException", 400},
    FaultInfo{Fault::kIncompleteSignature, "IncompleteSignatureException", 400},
    FaultInfo{Fault::kInvalidSignature, "InvalidSignatureException", 400},
    FaultInfo{Fault::kMissingAuthenticationToken,
              "MissingAuthenticationTokenException", 400},
    FaultInfo{Fault::kUnrecognizedClient, "UnrecognizedClientException", 400},
    FaultInfo{Fault::kRequestExpired, "RequestExpired", 400},
    FaultInfo{Fault::kInternalFailure, "InternalFailure", 500},
    FaultInfo{Fault::kServiceUnavailable, "ServiceUnavailable", 503},
};

const FaultInfo& Info(Fault fault) {
  for (const auto& info : kFaults) {
    if (info.fault == fault) return info;
  }
  return kFaults[0];
}

}  // namespace

std::string_view FaultName(Fault fault) { return Info(fault).name; }

int FaultHttpStatus(Fault fault) { return Info(fault).http_status; }

Fault FaultFromName(std::string_view name) {
  if (auto hash = name.rfind('#'); hash != std::string_view::npos) {
    name = name.substr(hash + 1);
  }
  for (const auto& info : kFaults) {
    if (info.name == name) return info.fault;
  }
  // Names some SDKs and services use for the same conditions.
  if (name == "Throttling" || name == "ThrottledException" ||
      name == "TooManyRequestsException" || name == "RequestLimitExceeded") {
    return Fault::kThrottling;
  }
  if (name == "IncompleteSignature") return Fault::kIncompleteSignature;  // the Query API's name
  if (name == "InternalServerError" || name == "InternalError") {
    return Fault::kInternalFailure;
  }
  return Fault::kInternalFailure;
}

bool FaultIsRetryable(Fault fault) {
  return fault == Fault::kThrottling || fault == Fault::kInternalFailure ||
         fault == Fault::kServiceUnavailable;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(FaultName(fault_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace garcon
