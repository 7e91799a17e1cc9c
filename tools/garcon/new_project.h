// `garcon new NAME [--dir DIR]`: writes a flow project that builds against
// the installed Garcon (find_package(garcon)) and runs at once.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>

#include "garcon/status.h"

namespace garcon::tools {

struct NewCommand {
  CLI::App* command = nullptr;  // set by AddNewCommand
  std::string name;
  std::string dir;  // default: ./NAME

  // Writes the project; prints what was written and how to build and run it.
  // Exit code: 0 when written, 2 otherwise (the message on stderr).
  int Run() const;
};

// Adds the `new` subcommand to `app`, parsing into `command`.
void AddNewCommand(CLI::App& app, NewCommand& command);

// The files of a project named `name`, by path relative to its directory.
// Errors: kValidation when `name` is not a letter followed by up to 63
// letters, digits and underscores (it names the program, the CMake project
// and the workflow).
Result<std::map<std::string, std::string>> NewProjectFiles(const std::string& name);

// Writes NewProjectFiles(name) into `dir`, created if missing. Errors:
// kValidation for a bad name or a `dir` that exists and is not empty;
// kInternalFailure when a file cannot be written.
Status WriteNewProject(const std::string& name, const std::string& dir);

}  // namespace garcon::tools
