# garcon_library(<target> [FLOW]): what every library of src/ shares, called
# right after its add_library:
# - the alias garcon::<name> (garcon_engine -> garcon::engine), the name it is
#   exported under, so a parent project and an installed prefix see the same
#   targets;
# - the public headers as a usage requirement, as build-tree or install-tree
#   paths; src/ only for the library's own sources (never for consumers);
# - C++20 as a usage requirement (cxx_std_20), not a global setting;
# - the project's warning flags for its own sources only;
# - VERSION and SOVERSION (shared builds: libgarcon_engine.so.0);
# - FLOW: part of garcon::garcon, what a flow program links.
# Libraries must be declared after the libraries they link (add_subdirectory
# order): the pkg-config file lists them in reverse order.
function(garcon_library target)
  cmake_parse_arguments(L "FLOW" "" "" ${ARGN})
  string(REGEX REPLACE "^garcon_" "" name "${target}")
  add_library(garcon::${name} ALIAS ${target})
  target_include_directories(${target}
    PUBLIC
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
      $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:garcon_warnings>)
  set_target_properties(${target} PROPERTIES
    EXPORT_NAME ${name}
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR})
  if(NOT GARCON_TOP_LEVEL AND NOT GARCON_INSTALL)
    # As a subproject, build a library only when the parent links it.
    set_target_properties(${target} PROPERTIES EXCLUDE_FROM_ALL ON)
  endif()
  set_property(GLOBAL APPEND PROPERTY GARCON_LIBRARIES ${target})
  if(L_FLOW)
    set_property(GLOBAL APPEND PROPERTY GARCON_FLOW_LIBRARIES ${target})
  endif()
endfunction()
