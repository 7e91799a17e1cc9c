#!/usr/bin/env bash
# Builds tests/consumer/project (or a `garcon new` project) against Garcon the
# ways a user can, and runs its flow to COMPLETED.
#
#   run_consumer.sh find_package BUILD_DIR WORK_DIR VERSION
#       cmake --install BUILD_DIR into WORK_DIR/prefix, then find_package(garcon)
#   run_consumer.sh pkg_config BUILD_DIR WORK_DIR VERSION
#       the same install, then g++ $(pkg-config --cflags --libs garcon)
#   run_consumer.sh new BUILD_DIR WORK_DIR VERSION
#       the same install, then `garcon new` and the project it writes
#   run_consumer.sh fetchcontent SOURCE_DIR WORK_DIR VERSION
#       FetchContent (add_subdirectory) of the source tree
#   run_consumer.sh system - WORK_DIR VERSION
#       a Garcon installed in the system (the .deb): find_package, pkg-config
#       and `garcon new`, with nothing pointing at it
set -euo pipefail

mode=$1 from=$2 work=$3 version=$4
here=$(cd "$(dirname "$0")" && pwd)
project=$here/project
jobs=${GARCON_CONSUMER_JOBS:-2}
cxx=${CXX:-c++}

rm -rf "$work"
mkdir -p "$work"

# Runs a flow program and checks that it completed with the expected result.
run_flow() {
  local program=$1 expect=$2
  "$program" run --json > "$work/run.out"
  local last
  last=$(tail -n 1 "$work/run.out")
  echo "$(basename "$program"): $last"
  grep -q '"closeStatus":"COMPLETED"' <<<"$last" || { echo "not COMPLETED" >&2; exit 1; }
  grep -q "$expect" <<<"$last" || { echo "missing $expect in the result" >&2; exit 1; }
}

check_consumer() {
  run_flow "$1" '"greet.2":"hello 2 (attempt 2)"'
  grep -q '"summary.greetings":3' "$work/run.out" || { echo "summary missing" >&2; exit 1; }
}

install_prefix() {
  cmake --install "$from" --prefix "$work/prefix" > "$work/install.log"
}

build_with_cmake() {  # SOURCE BUILD [cmake args...]
  local source=$1 build=$2
  shift 2
  cmake -S "$source" -B "$build" -G Ninja "$@" > "$build.configure.log" ||
    { cat "$build.configure.log"; exit 1; }
  cmake --build "$build" -j "$jobs"
}

build_with_pkg_config() {
  local flags
  flags=$(pkg-config --cflags --libs garcon)
  echo "pkg-config --cflags --libs garcon: $flags"
  # shellcheck disable=SC2086  # the flags are words
  "$cxx" -std=c++20 -Wall -Wextra -Werror -DGARCON_EXPECTED_VERSION="\"$version\"" \
    "$project/consumer_flow.cc" -o "$work/consumer_flow_pc" $flags
  [ "$(pkg-config --modversion garcon)" = "$version" ] ||
    { echo "garcon.pc says $(pkg-config --modversion garcon), expected $version" >&2; exit 1; }
}

new_project() {  # GARCON_BIN [cmake args...]
  local garcon=$1
  shift
  (cd "$work" && "$garcon" new hello_flow)
  # Refused: a name that is not an identifier, a directory already used.
  if (cd "$work" && "$garcon" new 9lives 2>/dev/null); then
    echo "garcon new accepted the name 9lives" >&2; exit 1
  fi
  if (cd "$work" && "$garcon" new hello_flow 2>/dev/null); then
    echo "garcon new wrote over hello_flow/" >&2; exit 1
  fi
  [ -f "$work/hello_flow/README.md" ] || { echo "garcon new wrote no README" >&2; exit 1; }
  build_with_cmake "$work/hello_flow" "$work/hello_flow/build" "$@"
  run_flow "$work/hello_flow/build/hello_flow" '"hello.greeting"'
}

case $mode in
  find_package)
    install_prefix
    build_with_cmake "$project" "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DGARCON_EXPECTED_VERSION="$version"
    check_consumer "$work/build/consumer_flow"
    ;;
  pkg_config)
    install_prefix
    pc_dir=$(dirname "$(find "$work/prefix" -name garcon.pc)")
    PKG_CONFIG_PATH=$pc_dir build_with_pkg_config
    # Shared libraries in a prefix of one's own: pkg-config gives no run path.
    LD_LIBRARY_PATH=$(dirname "$pc_dir") check_consumer "$work/consumer_flow_pc"
    ;;
  new)
    install_prefix
    new_project "$work/prefix/bin/garcon" -DCMAKE_PREFIX_PATH="$work/prefix"
    ;;
  fetchcontent)
    # Shared libraries (BUILD_SHARED_LIBS, the parent's choice) with their
    # SOVERSION; no build type: the parent's, left empty, stays empty.
    build_with_cmake "$project" "$work/build" -DGARCON_CONSUMER_MODE=fetchcontent \
      -DGARCON_SOURCE_DIR="$from" -DGARCON_EXPECTED_VERSION="$version" -DBUILD_SHARED_LIBS=ON
    # Only the libraries the program links were built: not garcon server's.
    if find "$work/build" -name 'libgarcon_server*' | grep -q .; then
      echo "the subproject built garcon_server, which the program does not link" >&2
      exit 1
    fi
    major=${version%%.*}
    readelf -d "$work/build/consumer_flow" | grep -q "NEEDED.*\[libgarcon_app.so.$major\]" ||
      { echo "consumer_flow does not link libgarcon_app.so.$major" >&2; exit 1; }
    app_library=$(find "$work/build" -name "libgarcon_app.so.$version")
    [ -n "$app_library" ] || { echo "no libgarcon_app.so.$version" >&2; exit 1; }
    readelf -d "$app_library" | grep -q "SONAME.*\[libgarcon_app.so.$major\]" ||
      { echo "libgarcon_app.so.$version has no SONAME libgarcon_app.so.$major" >&2; exit 1; }
    check_consumer "$work/build/consumer_flow"
    ;;
  system)
    build_with_cmake "$project" "$work/build" -DGARCON_EXPECTED_VERSION="$version"
    check_consumer "$work/build/consumer_flow"
    build_with_pkg_config
    check_consumer "$work/consumer_flow_pc"
    new_project "$(command -v garcon)"
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
echo "consumer $mode: OK"
