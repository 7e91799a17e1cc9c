// Activity instance ids, computed exactly as the original Garcon computes
// them so that histories stay readable across implementations.
#pragma once

#include <string>

#include "garcon/task.h"

namespace garcon::flow {

// Python's str() of a JSON value: strings raw, True/False/None, lists and
// objects in Python's repr form.
std::string PythonStr(const Json& value);

// sha1 (hex) over `'k':'v';` for each key in sorted order, values rendered
// with PythonStr. `local_context` must be a non-empty object.
std::string DictionaryKey(const Context& local_context);

}  // namespace garcon::flow
