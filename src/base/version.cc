#include "garcon/version.h"

namespace garcon {

std::string_view Version() { return GARCON_VERSION_STRING; }

}  // namespace garcon
