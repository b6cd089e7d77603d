# packaging/install.cmake -- install layout and CPack (.deb) for gemgate.
# Included at the end of the top-level CMakeLists.txt.  See docs/PACKAGING.md.
#
# The binaries and gemctl-tui.1 already have install() rules next to their
# targets (daemon/CMakeLists.txt, tui/CMakeLists.txt); this file adds
#
#   share/gemgate/web/          the built web console (web/dist), if built
#   share/gemgate/sql/          the SQL migrations, for reference (they are
#                               embedded in the binary)
#   share/man/man8/gemgated.8
#   share/doc/gemgate/          README and docs
#   <sysconfdir>/gemgate/gemgate.env        commented sample configuration
#   <unitdir>/gemgated.service              systemd unit
#
# <sysconfdir> and <unitdir> are chosen at INSTALL time from the prefix that
# is actually used (`cmake --install --prefix`, or CPack's /usr): prefix /usr
# gives /etc and /lib/systemd/system (Debian 12 layout), any other prefix
# gives <prefix>/etc and <prefix>/lib/systemd/system.  The unit's paths are
# filled in at install time for the same reason.

set(GG_PKG_DIR ${CMAKE_CURRENT_LIST_DIR})
set(GG_WEB_DIST ${CMAKE_SOURCE_DIR}/web/dist)

# --- web console ------------------------------------------------------------
# The build tree's console (packaging/web.cmake) wins over the source tree's
# web/dist (`make web`).  Checked at install time: both are built after
# configuring.
install(CODE "
  if(EXISTS \"${CMAKE_BINARY_DIR}/web/dist/index.html\")
    file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/share/gemgate/web\" TYPE DIRECTORY
         FILES \"${CMAKE_BINARY_DIR}/web/dist/\")
  elseif(EXISTS \"${GG_WEB_DIST}/index.html\")
    # resolve a symlinked web/dist, or the symlink itself would be installed
    file(REAL_PATH \"${GG_WEB_DIST}\" _gg_web)
    file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/share/gemgate/web\" TYPE DIRECTORY
         FILES \"\${_gg_web}/\")
  else()
    message(WARNING \"gemgate: web/dist/index.html not found -- the web console is NOT installed \"
                    \"(install node >= 20 and npm and rebuild, or run `make web` first); /admin will answer 404\")
  endif()
")

# --- SQL migrations (reference copy) -----------------------------------------
install(DIRECTORY ${CMAKE_SOURCE_DIR}/sql/ DESTINATION share/gemgate/sql
        FILES_MATCHING PATTERN "*.sql")

# --- man page, docs -------------------------------------------------------------
install(FILES ${CMAKE_SOURCE_DIR}/daemon/gemgated.8 DESTINATION share/man/man8)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/ARCHITECTURE.md
              ${CMAKE_SOURCE_DIR}/docs/ADMIN_API.md ${CMAKE_SOURCE_DIR}/docs/PACKAGING.md
        DESTINATION share/doc/gemgate)

# --- sample configuration and systemd unit (paths decided at install time) ----
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(_gg_etc \"/etc\")
    set(_gg_unitdir \"/lib/systemd/system\")
  else()
    set(_gg_etc \"\${CMAKE_INSTALL_PREFIX}/etc\")
    set(_gg_unitdir \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
  endif()
  file(INSTALL DESTINATION \"\${_gg_etc}/gemgate\" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
       FILES \"${GG_PKG_DIR}/gemgate.env\")
  file(READ \"${GG_PKG_DIR}/gemgated.service\" _gg_unit)
  string(REPLACE \"@BINDIR@\" \"\${CMAKE_INSTALL_PREFIX}/bin\" _gg_unit \"\${_gg_unit}\")
  string(REPLACE \"@SYSCONFDIR@\" \"\${_gg_etc}\" _gg_unit \"\${_gg_unit}\")
  file(WRITE \"${CMAKE_BINARY_DIR}/packaging/gemgated.service\" \"\${_gg_unit}\")
  file(INSTALL DESTINATION \"\${_gg_unitdir}\" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES \"${CMAKE_BINARY_DIR}/packaging/gemgated.service\")
")

# --- CPack: Debian package `gemgate` ---------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "gemgate")
set(CPACK_PACKAGE_VENDOR "gemgate")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "OpenAI-compatible gateway over Gemini Business accounts")
set(CPACK_PACKAGE_DESCRIPTION
  "gemgated exposes an OpenAI-compatible API (/v1/chat/completions with true\n streaming, /v1/models) over a pool of Gemini Business web accounts, with\n failover between accounts, an admin REST API, a web console at /admin,\n Prometheus metrics and a SQLite or PostgreSQL store.\n gemctl-tui is an ncurses operator console and scripting CLI for it.")
set(CPACK_PACKAGE_CONTACT "gemgate dev <dev@gemgate.local>")
# The package is built from an install with prefix /usr into a DESTDIR, so the
# install-time /etc and /lib/systemd/system rules above apply.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX "/usr")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)

if(NOT DEFINED CPACK_DEBIAN_PACKAGE_MAINTAINER)
  set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)           # needs dpkg-shlibdeps (dpkg-dev)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "ca-certificates")   # merged with the shlibdeps result
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql-client")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${GG_PKG_DIR}/deb/conffiles ${GG_PKG_DIR}/deb/postinst
    ${GG_PKG_DIR}/deb/prerm ${GG_PKG_DIR}/deb/postrm)

include(CPack)
