#include "base/allocator.h"

#include <dlfcn.h>

namespace garcon {

std::string AllocatorName() {
  // mimalloc exports mi_version() (e.g. 209 for 2.0.9); looked up at run
  // time, so that the libraries never link it (dlsym is in the C library
  // since glibc 2.34).
  using VersionFn = int (*)();
  void* symbol = ::dlsym(RTLD_DEFAULT, "mi_version");
  if (symbol == nullptr) return "the C library's malloc";
  const int v = reinterpret_cast<VersionFn>(symbol)();
  return "mimalloc " + std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." +
         std::to_string(v % 10);
}

}  // namespace garcon
