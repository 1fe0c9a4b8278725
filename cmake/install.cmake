# Install layout and the .deb (`cmake --install build`, `make package`). Included from the top CMakeLists.txt
# after the targets exist.
#
#   bin/crashgrid
#   lib/crashgrid/libcrashgrid_agent.so     preloaded into --exec trials; FindAgentLibrary looks in
#                                           <binary>/../lib/crashgrid/ (supervisor/handler_report.cc)
#   lib/crashgrid/libcrashgrid_refrace.so   the reference target's library; the binary's RPATH
#                                           ($ORIGIN/../lib/crashgrid, src/CMakeLists.txt) finds it
#   include/crashgrid.h                     the optional header a program names its phases and counts its
#                                           iterations with (README: "A program's own phases")
#   share/man/man1/crashgrid.1              generated from --help by help2man (cmake/gen-man.sh)
#   share/bash-completion/completions/crashgrid, share/zsh/vendor-completions/_crashgrid
#                                           generated from the binary (completions/gen-completions.sh)
#
# Both libraries are private to crashgrid, so they live in lib/crashgrid/ under any prefix, not in the
# multiarch library directory: the paths stay relative to the binary and the tree relocates (a .deb under
# /usr, `cmake --install --prefix ~/.local`, a copied /opt/crashgrid).
include(GNUInstallDirs)
set(CRASHGRID_PRIVATE_LIBDIR lib/crashgrid)

install(TARGETS crashgrid RUNTIME DESTINATION bin)  # not ${CMAKE_INSTALL_BINDIR}: the RPATH says ../lib
install(TARGETS crashgrid_agent crashgrid_refrace LIBRARY DESTINATION ${CRASHGRID_PRIVATE_LIBDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/crashgrid.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING
        PATTERN "*.md" PATTERN "*.json")

# Completions: generated from the built binary, so they list what it accepts.
set(CRASHGRID_COMPLETIONS ${CMAKE_BINARY_DIR}/completions/crashgrid.bash ${CMAKE_BINARY_DIR}/completions/_crashgrid)
add_custom_command(OUTPUT ${CRASHGRID_COMPLETIONS}
                   COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/completions
                   COMMAND bash ${CMAKE_SOURCE_DIR}/completions/gen-completions.sh $<TARGET_FILE:crashgrid>
                           ${CRASHGRID_COMPLETIONS}
                   DEPENDS crashgrid ${CMAKE_SOURCE_DIR}/completions/gen-completions.sh
                   COMMENT "Generating bash and zsh completion for crashgrid")
add_custom_target(crashgrid_completions ALL DEPENDS ${CRASHGRID_COMPLETIONS})
install(FILES ${CMAKE_BINARY_DIR}/completions/crashgrid.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME crashgrid)
install(FILES ${CMAKE_BINARY_DIR}/completions/_crashgrid DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)

# The man page, when help2man is there (scripts/install-deps.sh installs it; without it, no page is built
# or installed, and configuring says so).
find_program(CRASHGRID_HELP2MAN help2man)
if(CRASHGRID_HELP2MAN)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/man/crashgrid.1
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
                     COMMAND bash ${CMAKE_SOURCE_DIR}/cmake/gen-man.sh $<TARGET_FILE:crashgrid>
                             ${CMAKE_BINARY_DIR}/man/crashgrid.1
                     DEPENDS crashgrid ${CMAKE_SOURCE_DIR}/cmake/gen-man.sh
                     COMMENT "Generating crashgrid.1 with help2man")
  add_custom_target(crashgrid_man ALL DEPENDS ${CMAKE_BINARY_DIR}/man/crashgrid.1)
  install(FILES ${CMAKE_BINARY_DIR}/man/crashgrid.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found: no man page (apt-get install help2man)")
endif()

# The .deb: `cpack -G DEB` in the build directory, or `make package`. Depends come from dpkg-shlibdeps on
# the installed binaries (libc, libstdc++, libgstreamer, libdw, libsqlite3, libfmt); what only the workloads
# load at run time (GStreamer's plugins, an encoder for the gst workload) is recommended, not required.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME crashgrid)
set(CPACK_PACKAGE_VENDOR "crashgrid")
set(CPACK_PACKAGE_CONTACT "crashgrid maintainers <crashgrid@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "crash probability of multi-threaded workloads over a grid of settings")
set(CPACK_PACKAGE_DESCRIPTION "crashgrid runs a workload (built in, or any program with --exec) over a grid\n\
of settings, each trial a supervised process, records every trial in SQLite and\n\
reports crash statistics: tables, exact comparisons, signatures with stacks.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# dpkg-shlibdeps must see libcrashgrid_refrace.so (the binary needs it) in the staged tree.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR})
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, gstreamer1.0-plugins-ugly")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion")
include(CPack)

add_subdirectory(${CMAKE_SOURCE_DIR}/tests/packaging ${CMAKE_BINARY_DIR}/tests/packaging)
