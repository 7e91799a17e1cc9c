// Reading a whole execution history through swf::Service, following pages.
#pragma once

#include <vector>

#include "garcon/decider.h"
#include "garcon/service.h"

namespace garcon::app {

Result<std::vector<Json>> FetchHistory(swf::Service& service, const std::string& domain,
                                       const std::string& workflow_id, const std::string& run_id);

}  // namespace garcon::app
