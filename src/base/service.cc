#include "garcon/service.h"

namespace garcon::swf {

bool HasTask(const Json& poll_response) {
  if (!poll_response.is_object()) return false;
  auto it = poll_response.find("taskToken");
  return it != poll_response.end() && it->is_string() && !it->get_ref<const std::string&>().empty();
}

}  // namespace garcon::swf
