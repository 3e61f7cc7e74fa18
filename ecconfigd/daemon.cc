#include "ecconfigd/daemon.h"

#include <csignal>
#include <fstream>
#include <iostream>

#include "common/daemon/daemonize.h"
#include "common/event/event_base.h"
#include "common/event/signal_watcher.h"
#include "common/log/logger.h"

namespace ec::ecconfigd {
namespace fs = std::filesystem;

int RunDaemon(const DaemonOptions& options) {
  if (!options.foreground) {
    Status detached = daemon::Daemonize();
    if (!detached.ok()) {
      std::cerr << "ecconfigd: " << detached.message() << "\n";
      return 2;
    }
  }
  if (!options.log_file.empty()) {
    Status s = log::Logger::Global().LogToFile(options.log_file.string());
    if (!s.ok()) {
      std::cerr << "ecconfigd: " << s.message() << "\n";
      return 1;
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  auto base = event::EventBase::Create();
  if (!base.ok()) {
    std::cerr << "ecconfigd: " << base.status().message() << "\n";
    return 2;
  }
  auto server = ConfigServer::Start((*base)->get(), options.server);
  if (!server.ok()) {
    std::cerr << "ecconfigd: " << server.status().message() << "\n";
    EC_LOG(kError, "ecconfigd cannot start").Field("error", server.status());
    return 2;
  }
  if (!options.port_file.empty()) {
    fs::path tmp = options.port_file;
    tmp += ".tmp";
    std::ofstream(tmp) << (*server)->port() << "\n";
    std::error_code ec;
    fs::rename(tmp, options.port_file, ec);
  }
  std::vector<std::unique_ptr<event::SignalWatcher>> watchers;
  for (int signo : {SIGTERM, SIGINT}) {
    auto w = event::SignalWatcher::Create(**base, signo, [&base] { (*base)->Stop(); });
    if (w.ok()) watchers.push_back(std::move(*w));
  }
  Status ran = (*base)->Run();
  EC_LOG(kInfo, "ecconfigd stopping");
  server->reset();
  watchers.clear();
  return ran.ok() ? 0 : 2;
}

int RunPasswd(const fs::path& state_dir, const std::string& user, std::istream& in) {
  std::string password;
  if (!std::getline(in, password) || password.empty()) {
    std::cerr << "ecconfigd passwd: no password on standard input\n";
    return 1;
  }
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  Status s = PasswordFile::SetPassword(state_dir / "passwd", user, password);
  if (!s.ok()) {
    std::cerr << "ecconfigd passwd: " << s.message() << "\n";
    return 1;
  }
  std::cout << "password set for " << user << "\n";
  return 0;
}

}  // namespace ec::ecconfigd
