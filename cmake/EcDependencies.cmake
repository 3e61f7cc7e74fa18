# The one place that finds third-party libraries. Every target links the imported targets below,
# never raw flags. scripts/install-deps.sh installs the Debian packages behind them.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(EC_LIBEVENT REQUIRED IMPORTED_TARGET libevent libevent_openssl libevent_pthreads)
pkg_check_modules(EC_ZMQ REQUIRED IMPORTED_TARGET libzmq)
pkg_check_modules(EC_GIT2 REQUIRED IMPORTED_TARGET libgit2)
# DuraVIP's netlink address plumbing (duravip/netlink_plumber.cc).
pkg_check_modules(EC_NL REQUIRED IMPORTED_TARGET libnl-3.0 libnl-route-3.0)
# Outbound DNS (mta/dns): c-ares, driven from the libevent loop.
pkg_check_modules(EC_CARES REQUIRED IMPORTED_TARGET libcares)
# Capabilities kept after dropping root (common/daemon/privileges.cc).
pkg_check_modules(EC_CAP REQUIRED IMPORTED_TARGET libcap)
# sd_notify readiness under systemd (common/daemon/readiness.cc).
pkg_check_modules(EC_SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
find_package(OpenSSL 3 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(cppzmq REQUIRED)
find_package(GTest REQUIRED)

add_library(ec::libevent ALIAS PkgConfig::EC_LIBEVENT)
add_library(ec::zmq ALIAS PkgConfig::EC_ZMQ)
add_library(ec::git2 ALIAS PkgConfig::EC_GIT2)
add_library(ec::nl ALIAS PkgConfig::EC_NL)
add_library(ec::cares ALIAS PkgConfig::EC_CARES)
add_library(ec::cap ALIAS PkgConfig::EC_CAP)
add_library(ec::systemd ALIAS PkgConfig::EC_SYSTEMD)
