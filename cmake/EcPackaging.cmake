# Installation and the Debian package (cpack -G DEB from the build directory): one package,
# `ecmta`, for node and manager hosts alike; the operator enables the units a host's role needs
# (docs/install.md). Everything lives under /opt/ecmta like Momentum's /opt/msys/ecelerity:
#   bin/            the daemons and tools           share/conf/  the shipped configuration
#   libexec/        helpers for maintainer scripts  share/doc/   the operator documentation
#   etc/ spool/ log/ run/  made by postinst, owned by ecuser (the daemons' Security { user })
# plus the systemd units, a logrotate snippet and /etc/default/ecmta.
#
# The package holds what the build directory holds: cpack and `make install` do not build
# `all` first, so packaging a tree where only some targets are current costs nothing more
# (CI builds everything before its tests; a missing binary fails the install with its name).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(EC_PACKAGE_ROOT /opt/ecmta)
set(EC_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)

install(TARGETS ecmta ec_console ec_duravip_keeper ec_spool ec_conf eccfg eccmgr ecconfigd
                ec_msgc_keygen eccluster_request
        RUNTIME DESTINATION ${EC_PACKAGE_ROOT}/bin)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/conf/ DESTINATION ${EC_PACKAGE_ROOT}/share/conf)
# The manager's dashboard (eccmgr's default status_http_web_root is <root>/share/web).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/manager/web/ DESTINATION ${EC_PACKAGE_ROOT}/share/web)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${EC_PACKAGE_ROOT}/share/doc
        FILES_MATCHING PATTERN "*.md")
# postinst creates the account with the same script developers run (scripts/install-user.sh).
install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/install-user.sh
        DESTINATION ${EC_PACKAGE_ROOT}/libexec RENAME ecmta-install-user)
install(PROGRAMS ${EC_PACKAGING_DIR}/libexec/ecmta-reopen-logs
        DESTINATION ${EC_PACKAGE_ROOT}/libexec)
install(FILES ${EC_PACKAGING_DIR}/systemd/ecmta.service ${EC_PACKAGING_DIR}/systemd/eccmgr.service
              ${EC_PACKAGING_DIR}/systemd/ecconfigd.service
              ${EC_PACKAGING_DIR}/systemd/eccfg-watch.service
              ${EC_PACKAGING_DIR}/systemd/eccfg-pull.service
              ${EC_PACKAGING_DIR}/systemd/eccfg-pull.timer
        DESTINATION /lib/systemd/system)
install(FILES ${EC_PACKAGING_DIR}/logrotate/ecmta DESTINATION /etc/logrotate.d)
install(FILES ${EC_PACKAGING_DIR}/default/ecmta DESTINATION /etc/default)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ecmta)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ecmta maintainers <ecmta@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "MTA cluster: ecmta nodes, eccmgr manager, ecconfigd, eccfg")
set(CPACK_PACKAGE_DESCRIPTION
  "An ESMTP mail-transfer-agent cluster modelled on Momentum: the ecmta node daemon, the eccmgr\n"
  "cluster manager, the ecconfigd configuration repository and the eccfg client, with systemd\n"
  "units (Type=notify) and a logrotate snippet. Installs under /opt/ecmta.")
set(CPACK_PACKAGING_INSTALL_PREFIX /)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from the binaries themselves (dpkg-shlibdeps); the maintainer scripts
# need the account tools and the reopen helper nothing more than the base system.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "logrotate")
# Debug info stays in the build tree: a RelWithDebInfo ecmta is several times its stripped size.
set(CPACK_STRIP_FILES ON)
# gzip: an xz pass over the (large, sanitizer-built in CI) binaries costs tens of seconds.
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${EC_PACKAGING_DIR}/debian/conffiles ${EC_PACKAGING_DIR}/debian/postinst
  ${EC_PACKAGING_DIR}/debian/prerm ${EC_PACKAGING_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
