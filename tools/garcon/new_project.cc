#include "new_project.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <system_error>

#include "garcon/version.h"

namespace garcon::tools {
namespace {

constexpr const char* kCMakeLists = R"(# @NAME@: a Garcon flow program.
cmake_minimum_required(VERSION 3.25)
project(@NAME@ LANGUAGES CXX)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

# An installed Garcon: the garcon package, or `cmake --install` of a Garcon
# build into a prefix given with -DCMAKE_PREFIX_PATH=PREFIX.
find_package(garcon @MAJOR@.@MINOR@ REQUIRED)

add_executable(@NAME@ @NAME@.cc)
# garcon::garcon brings the headers, the libraries and C++20.
target_link_libraries(@NAME@ PRIVATE garcon::garcon)
)";

constexpr const char* kFlow =
    R"(// @NAME@: a flow of two activities. `hello` greets the name given in the
// input (retried twice if it fails); `shout` runs once `hello` completed and
// reads its result from the context.
//
//   build/@NAME@ run --input '{"name": "Ana"}'
#include <garcon/garcon.h>

#include <cctype>
#include <optional>
#include <string>

using garcon::ActivityExecution;
using garcon::Context;

namespace {

// A task is a plain function. Its first parameter is the running activity
// (heartbeats, a logger); the others are filled from the context keys given
// after it (one per parameter, counted at compile time).
// It returns what it adds to the context.
Context Greet(ActivityExecution& activity, std::optional<std::string> name) {
  const std::string who = name.value_or("world");
  activity.logger()->info("greeting {}", who);
  return {{"hello.greeting", "Hello, " + who + "!"}};
}

Context Shout(ActivityExecution&, const std::string& greeting) {
  std::string loud = greeting;
  for (char& c : loud) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return {{"shout.greeting", loud}};
}

}  // namespace

int main(int argc, char** argv) {
  garcon::Flow flow("dev", "@NAME@");  // domain, workflow name
  auto& hello = flow.Activity("hello")
                    .Retry(2)
                    .Run(garcon::Sync(garcon::Task(Greet, "name")));
  flow.Activity("shout")
      .Requires({&hello})
      .Run(garcon::Sync(garcon::Task(Shout, "hello.greeting")));
  // run [--input JSON] [--json]: one execution on the embedded engine;
  // decider / worker / start --endpoint URL: against garcon server or SWF.
  return garcon::Main(flow, argc, argv);
}
)";

constexpr const char* kReadme = R"(# @NAME@

A flow program built on Garcon for C++: the flow in
`@NAME@.cc` declares two activities, `hello` then `shout`; Garcon derives
the decider and the activity workers.

## Build

Garcon must be installed (the `garcon` package, or `cmake --install` of a
Garcon build: then add `-DCMAKE_PREFIX_PATH=PREFIX` to the first command).

```sh
cmake -S . -B build
cmake --build build
```

## Run

```sh
build/@NAME@ run                              # the embedded engine, in memory
build/@NAME@ run --input '{"name": "Ana"}'    # with an input
build/@NAME@ run --json                       # the outcome as one JSON line
```

`run` registers the flow, starts one execution, runs the decider and the
workers in this process and prints the final context; it exits 0 only when
the workflow completed.

Against `garcon server` (or Amazon SWF without `--endpoint`):

```sh
garcon server --memory &
build/@NAME@ decider --endpoint http://127.0.0.1:7800 &
build/@NAME@ worker  --endpoint http://127.0.0.1:7800 &
build/@NAME@ start   --endpoint http://127.0.0.1:7800 --wait
```

## Next

Add activities with `flow.Activity("name")`, order them with
`.Requires({&other})`, fan out with `.Generator(...)`, retry with
`.Retry(n)`; the Garcon README describes the whole API.
)";

constexpr const char* kGitignore = "build/\n";

std::string Fill(std::string text, const std::string& name) {
  const std::map<std::string, std::string> values = {
      {"@NAME@", name},
      {"@MAJOR@", std::to_string(GARCON_VERSION_MAJOR)},
      {"@MINOR@", std::to_string(GARCON_VERSION_MINOR)}};
  for (const auto& [key, value] : values) {
    for (auto at = text.find(key); at != std::string::npos;
         at = text.find(key, at + value.size())) {
      text.replace(at, key.size(), value);
    }
  }
  return text;
}

}  // namespace

Result<std::map<std::string, std::string>> NewProjectFiles(const std::string& name) {
  bool valid =
      !name.empty() && name.size() <= 64 && std::isalpha(static_cast<unsigned char>(name[0]));
  for (char c : name) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!valid) {
    return ValidationError("'" + name +
                           "' is not a project name: a letter, then up to 63 letters, digits "
                           "and underscores (e.g. order_flow)");
  }
  return std::map<std::string, std::string>{{"CMakeLists.txt", Fill(kCMakeLists, name)},
                                            {name + ".cc", Fill(kFlow, name)},
                                            {"README.md", Fill(kReadme, name)},
                                            {".gitignore", kGitignore}};
}

Status WriteNewProject(const std::string& name, const std::string& dir) {
  auto files = NewProjectFiles(name);
  if (!files.ok()) return files.status();
  namespace fs = std::filesystem;
  std::error_code error;
  if (fs::exists(dir, error) && !(fs::is_directory(dir, error) && fs::is_empty(dir, error))) {
    return ValidationError(dir + " already exists and is not an empty directory");
  }
  fs::create_directories(dir, error);
  if (error) return InternalError("cannot create " + dir + ": " + error.message());
  for (const auto& [path, text] : *files) {
    const fs::path file = fs::path(dir) / path;
    std::ofstream out(file, std::ios::binary);
    out << text;
    out.close();
    if (!out) return InternalError("cannot write " + file.string());
  }
  return Status::Ok();
}

void AddNewCommand(CLI::App& app, NewCommand& command) {
  command.command = app.add_subcommand(
      "new",
      "Write a flow project (CMakeLists.txt with find_package(garcon), a flow of two "
      "activities, a README) that builds and runs at once");
  command.command->add_option("name", command.name, "Project name: the program and the workflow")
      ->required();
  command.command->add_option("--dir", command.dir, "Where to write it (default: ./NAME)");
}

int NewCommand::Run() const {
  const std::string where = dir.empty() ? name : dir;
  Status written = WriteNewProject(name, where);
  if (!written.ok()) {
    std::cerr << "garcon new: " << written.message() << "\n";
    return 2;
  }
  std::cout << "wrote " << where << "/: CMakeLists.txt, " << name << ".cc, README.md\n"
            << "build and run it:\n"
            << "  cd " << where << "\n"
            << "  cmake -S . -B build && cmake --build build\n"
            << "  build/" << name << " run\n";
  return 0;
}

}  // namespace garcon::tools
