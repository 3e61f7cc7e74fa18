#!/usr/bin/env bash
# Installs every package the build, the tests and the benchmarks need on Debian 12 (with
# --bench, also the profilers of bench/relay/profile.sh and bench/queue/million.sh).
# Idempotent: apt-get skips what is already there. Run as root.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config git clang libclang-rt-14-dev
  # lld: scripts/test.sh links with it (GNU ld is several times slower on the ASan binaries)
  lld
  # libraries (ARCHITECTURE.md §4)
  libevent-dev libzmq3-dev cppzmq-dev libgit2-dev libssl-dev libyaml-cpp-dev
  libboost-program-options-dev libgtest-dev libgmock-dev libc-ares-dev
  # DuraVIP: netlink addresses (libnl-route-3); capabilities kept after dropping root (libcap)
  libnl-3-dev libnl-route-3-dev libcap-dev
  # sd_notify readiness under systemd (common/daemon/readiness.cc); the package test checks the
  # units with systemd-analyze, builds the .deb with dpkg-shlibdeps (dpkg-dev) and checks the
  # logrotate snippet with logrotate itself
  libsystemd-dev systemd dpkg-dev logrotate
  # real peers for integration tests and benchmarks: Postfix (smtp-source, smtp-sink and the
  # daemon we compare against), swaks, dnsmasq on loopback, iproute2 for namespaces
  postfix swaks libnet-ssleay-perl dnsmasq-base iproute2 openssl procps bc
  # integration tests run on Debian's own python3 (not a pyenv one), where these live
  python3 python3-pytest
  # the eccmgr dashboard's browser test (tests/integration/dashboard): headless Chromium driven
  # by Selenium through chromedriver
  chromium chromium-driver python3-selenium
  # the enrolment command `ecconfigd enroll` prints runs curl (tests/integration/config/test_enrol*.py)
  curl
)
# --bench adds the profilers only benchmarks use, kept out of the test command's installs:
#  bench/relay/profile.sh (where ecmta's CPU and system calls go per relayed message) and
#  bench/queue/million.sh (heap in use read with gdb's malloc_stats, PERF=/HEAPTRACK= runs),
#  bench/relay/instructions.sh (instructions per message under callgrind).
if [[ ${1:-} == --bench ]]; then
  packages+=(linux-perf strace gdb heaptrack valgrind)
fi

# The account the daemons run as after dropping root (conf/default: Security { user }).
bash "$(dirname "$0")/install-user.sh"

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Postfix must not become this machine's MTA: its daemon is only started by our benchmarks,
# from their own config directory on high loopback ports.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
