# `cmake --install`: the public headers (with the generated version.h), the
# libraries, the `garcon` command, the exported garcon:: targets with
# garconConfig.cmake and garconConfigVersion.cmake, and garcon.pc; the
# `package` target (CPack) makes a .deb of the same (packaging/).
include(CMakePackageConfigHelpers)

set(GARCON_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/garcon
  CACHE STRING "Where garconConfig.cmake is installed, relative to the prefix")
set(GARCON_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  CACHE STRING "Where garcon.pc is installed, relative to the prefix")

get_property(garcon_libraries GLOBAL PROPERTY GARCON_LIBRARIES)
install(TARGETS ${garcon_libraries} garcon_all
  EXPORT garconTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/garcon
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/garcon/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/garcon)
if(TARGET garcon)
  install(TARGETS garcon RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# Shared libraries installed into a prefix of one's own find each other, and
# the garcon command finds them, without LD_LIBRARY_PATH (the system's
# directories need no run path).
if(BUILD_SHARED_LIBS AND NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set_target_properties(${garcon_libraries} PROPERTIES INSTALL_RPATH "$ORIGIN")
  if(TARGET garcon)
    file(RELATIVE_PATH garcon_bin_to_lib
      /prefix/${CMAKE_INSTALL_BINDIR} /prefix/${CMAKE_INSTALL_LIBDIR})
    set_target_properties(garcon PROPERTIES INSTALL_RPATH "$ORIGIN/${garcon_bin_to_lib}")
  endif()
endif()

install(EXPORT garconTargets
  NAMESPACE garcon::
  DESTINATION ${GARCON_CMAKE_DIR})
if(BUILD_SHARED_LIBS)
  set(GARCON_SHARED_LIBRARIES ON)
else()
  set(GARCON_SHARED_LIBRARIES OFF)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/garconConfig.cmake.in
  ${PROJECT_BINARY_DIR}/garconConfig.cmake
  INSTALL_DESTINATION ${GARCON_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/garconConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/garconConfig.cmake
              ${PROJECT_BINARY_DIR}/garconConfigVersion.cmake
  DESTINATION ${GARCON_CMAKE_DIR})

# garcon.pc: the flow libraries, dependents first (the reverse of the order
# they were declared in), and where their dependencies come from. A static
# Garcon needs its private dependencies on the link line, so they go in
# Requires; a shared one in Requires.private. The prefix is found from the
# file's own place (${pcfiledir}), so an installed tree can move; except in
# /usr (the .deb), where pkg-config must see /usr/include and the system
# library directory as themselves to leave them off the command line.
get_property(garcon_flow_libraries GLOBAL PROPERTY GARCON_FLOW_LIBRARIES)
list(REVERSE garcon_flow_libraries)
set(GARCON_PC_LIBS "")
foreach(lib IN LISTS garcon_flow_libraries)
  string(APPEND GARCON_PC_LIBS " -l${lib}")
endforeach()
set(GARCON_PC_REQUIRES "nlohmann_json >= 3.10, spdlog, fmt")
set(GARCON_PC_PRIVATE "libcurl, sqlite3, libcrypto")
if(BUILD_SHARED_LIBS)
  set(GARCON_PC_REQUIRES_PRIVATE "${GARCON_PC_PRIVATE}")
else()
  string(APPEND GARCON_PC_REQUIRES ", ${GARCON_PC_PRIVATE}")
  set(GARCON_PC_REQUIRES_PRIVATE "")
endif()
if(IS_ABSOLUTE "${GARCON_PKGCONFIG_DIR}" OR CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(GARCON_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH garcon_pc_up "/prefix/${GARCON_PKGCONFIG_DIR}" "/prefix")
  string(REGEX REPLACE "/$" "" garcon_pc_up "${garcon_pc_up}")
  set(GARCON_PC_PREFIX "\${pcfiledir}/${garcon_pc_up}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/garcon.pc.in ${PROJECT_BINARY_DIR}/garcon.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/garcon.pc DESTINATION ${GARCON_PKGCONFIG_DIR})

if(GARCON_INSTALL_SYSTEMD)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/garcon.service.in
    ${PROJECT_BINARY_DIR}/packaging/garcon.service @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/packaging/garcon.service
    DESTINATION lib/systemd/system)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/default/garcon
    DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/default)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/install.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

include(${PROJECT_SOURCE_DIR}/packaging/CPackConfig.cmake)
