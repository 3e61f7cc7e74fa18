// ec_duravip_keeper: holds this node's DuraVIP addresses for ecmta, which starts it
// (KeeperClient::Spawn) with its end of a socketpair as fd 3, and removes them all when that
// socket closes or the lease lapses (duravip/keeper.h, docs/duravip-keeper.md). Needs
// CAP_NET_ADMIN (addresses) and CAP_NET_RAW (gratuitous ARP / neighbour advertisements).
// Logs one key=value line per action to stderr.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "common/daemon/unique_fd.h"
#include "common/log/logger.h"
#include "duravip/keeper.h"
#include "duravip/netlink_plumber.h"

namespace {

constexpr char kUsage[] =
    "usage: ec_duravip_keeper [--fd N] [--node-name NAME] [--log-level LEVEL]\n"
    "Started by ecmta with its control socket as fd 3 (default); not run by hand.\n"
    "  --fd N            the socket's descriptor (default 3)\n"
    "  --node-name NAME  node=NAME on every log line\n"
    "  --log-level L     error, warn, info (default), debug\n";

int Usage(std::string_view problem) {
  std::cerr << "ec_duravip_keeper: " << problem << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int fd = 3;
  std::string node_name;
  std::string log_level = "info";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= argc) return Usage("missing value or unknown option " + std::string(arg));
    const std::string_view value = argv[++i];
    if (arg == "--fd") {
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), fd);
      if (ec != std::errc() || end != value.data() + value.size() || fd < 0) {
        return Usage("bad --fd " + std::string(value));
      }
    } else if (arg == "--node-name") {
      node_name = value;
    } else if (arg == "--log-level") {
      log_level = value;
    } else {
      return Usage("unknown option " + std::string(arg));
    }
  }

  ec::log::Logger& logger = ec::log::Logger::Global();
  auto level = ec::log::ParseLevel(log_level);
  if (!level.ok()) return Usage(level.status().message());
  logger.SetLevel(*level);
  logger.SetNode(node_name);

  ec::daemon::UniqueFd socket_fd(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    std::cerr << "ec_duravip_keeper: fd " << fd
              << " is not a socket; the keeper is started by ecmta with its socket there\n";
    (void)socket_fd.Release();  // not ours to close
    return 2;
  }

  // SIGTERM/SIGINT end the loop through a signalfd, so the addresses still come off; a write
  // to a closed socket is an error return, not a death.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  ec::daemon::UniqueFd stop_fd(signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!stop_fd.valid()) {
    std::cerr << "ec_duravip_keeper: signalfd: " << std::strerror(errno) << "\n";
    return 1;
  }

  auto plumber = ec::duravip::NetlinkPlumber::Create();
  if (!plumber.ok()) {
    EC_LOG(kError, "duravip keeper cannot start").Field("error", plumber.status());
    return 1;
  }
  EC_LOG(kInfo, "duravip keeper serving").Field("pid", getpid()).Field("fd", fd);
  ec::duravip::Keeper keeper(plumber->get());
  const ec::Status s = keeper.Serve(socket_fd.get(), stop_fd.get());
  EC_LOG(kInfo, "duravip keeper exiting").Field("held", keeper.held().size()).Field("error", s);
  return s.ok() ? 0 : 1;
}
