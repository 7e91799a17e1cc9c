# The .deb (`make package`): one package `garcon` with the libraries, the
# headers, the CMake config and garcon.pc, the `garcon` command and, when
# GARCON_INSTALL_SYSTEMD is on, the garcon service (a systemd unit run as the
# `garcon` user, state in /var/lib/garcon). docs/install.md.
set(GARCON_PACKAGE_CONTACT "Garcon for C++ maintainers" CACHE STRING
  "Maintainer field of the .deb")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME garcon)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
  "Declare activities, their dependencies, retries, generators and task runners
in C++; Garcon derives the decider and the activity workers. Flows run on an
embedded engine that follows Amazon SWF's rules, on `garcon server` (SWF's
wire protocol, for boto3, the AWS SDKs and workers in any language), or on
Amazon SWF itself. This package has the C++ library (headers, static
libraries, CMake package garcon, pkg-config garcon), the garcon command and
the garcon systemd service.")
set(CPACK_PACKAGE_CONTACT "${GARCON_PACKAGE_CONTACT}")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The garcon command's shared libraries, found by dpkg-shlibdeps (mimalloc,
# libmimalloc2.0, among them when the build linked it: GARCON_MIMALLOC)...
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# ...and what a program built against the library needs: the headers the
# public headers include and, for static libraries, what they link.
if(BUILD_SHARED_LIBS)
  set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "nlohmann-json3-dev (>= 3.10), libspdlog-dev, libfmt-dev")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "nlohmann-json3-dev (>= 3.10), libspdlog-dev, libfmt-dev, libcurl4-openssl-dev | libcurl-dev, libsqlite3-dev, libssl-dev")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "g++ (>= 4:12), cmake (>= 3.25), pkg-config")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(garcon_control_extra
  ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
  ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
  ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
if(GARCON_INSTALL_SYSTEMD)
  list(APPEND garcon_control_extra ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles)
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${garcon_control_extra}")
include(CPack)
