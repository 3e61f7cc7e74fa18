#include "ecconfigd/daemon.h"

#include <fstream>
#include <iostream>

#include "common/config/check.h"
#include "common/daemon/daemonize.h"
#include "common/daemon/pid_file.h"
#include "common/daemon/readiness.h"
#include "common/daemon/run_as.h"
#include "common/daemon/signals.h"
#include "common/event/event_base.h"
#include "common/log/logger.h"
#include "ecconfigd/bus_notice.h"

namespace ec::ecconfigd {
namespace fs = std::filesystem;

namespace {

int CannotStart(const Status& s) {
  std::cerr << "ecconfigd: " << s.message() << "\n";
  EC_LOG(kError, "ecconfigd cannot start").Field("error", s);
  return 2;
}

// Security { } from --config, then the drop; the state directory is written as that user.
Status DropPrivileges(const DaemonOptions& options) {
  daemon::PrivilegeSpec spec;  // no --config: no user, identity kept (logged)
  if (!options.config.empty()) {
    config::LoadOptions load;
    load.root = options.root.string();
    load.node_name = options.node_name;
    EC_ASSIGN_OR_RETURN(auto config, config::LoadConfig(options.config, load));
    EC_ASSIGN_OR_RETURN(spec, daemon::PrivilegeSpecFromConfig(*config));
  }
  return daemon::RunAsConfiguredUser(spec, daemon::RootLayout::FromRoot(options.root),
                                     {options.server.state_dir});
}

}  // namespace

int RunDaemon(const DaemonOptions& options) {
  if (!options.foreground) {
    Status detached = daemon::Daemonize();
    if (!detached.ok()) return CannotStart(detached);
  }
  if (!options.log_file.empty()) {
    Status s = log::Logger::Global().LogToFile(options.log_file.string());
    if (!s.ok()) {
      std::cerr << "ecconfigd: " << s.message() << "\n";
      return 1;
    }
  }
  std::unique_ptr<daemon::PidFile> pid_file;
  if (!options.pid_file.empty()) {
    std::error_code ec;
    fs::create_directories(options.pid_file.parent_path(), ec);
    auto acquired = daemon::PidFile::Acquire(options.pid_file.string());
    if (!acquired.ok()) return CannotStart(acquired.status());
    pid_file = std::move(*acquired);
  }
  auto base = event::EventBase::Create();
  if (!base.ok()) return CannotStart(base.status());
  // Before the bus announcer's ZeroMQ threads: they must not keep root.
  if (Status s = DropPrivileges(options); !s.ok()) return CannotStart(s);

  std::unique_ptr<RevisionAnnouncer> announcer;
  if (!options.bus_config.empty()) {
    auto bus = LoadBusOptions(options.bus_config, options.node_name, options.bus_secret_key);
    if (bus.ok()) {
      auto made = RevisionAnnouncer::Create(**base, std::move(*bus));
      if (!made.ok()) return CannotStart(made.status());
      announcer = std::move(*made);
      EC_LOG(kInfo, "announcing revisions on the bus")
          .Field("group", kConfigGroup)
          .Field("node", options.node_name);
    } else if (bus.status().code() == StatusCode::kNotFound) {
      EC_LOG(kInfo, "no bus").Field("reason", bus.status());
    } else if (bus.status().code() == StatusCode::kFailedPrecondition) {
      // The shipped msgc_server.conf names example hosts: serving config matters more.
      EC_LOG(kWarn, "not on the bus").Field("reason", bus.status());
    } else {
      return CannotStart(bus.status());
    }
  }
  ServerOptions server_options = options.server;
  if (announcer) {
    server_options.on_revision = [&announcer](const std::string& subcluster, const git_oid& head) {
      announcer->Announce(subcluster, head);
    };
  }
  auto server = ConfigServer::Start((*base)->get(), server_options);
  if (!server.ok()) return CannotStart(server.status());
  if (!options.port_file.empty()) {
    fs::path tmp = options.port_file;
    tmp += ".tmp";
    std::ofstream out(tmp);
    out << (*server)->port() << "\n";
    out.close();
    std::error_code ec;
    if (out) fs::rename(tmp, options.port_file, ec);
    // Written after the drop: the daemon's user may lack the right to write there.
    if (!out || ec) {
      EC_LOG(kWarn, "cannot write the port file")
          .Field("path", options.port_file.string())
          .Field("error", ec ? ec.message() : std::string("cannot create ") + tmp.string());
    }
  }
  // SIGHUP: the bus follows msgc_server.conf (peers added or removed, keys changed).
  auto reload_bus = [&announcer, &options] {
    daemon::ReloadNotice reloading;
    if (!announcer) return;
    auto bus = LoadBusOptions(options.bus_config, options.node_name, options.bus_secret_key);
    Status s = bus.ok() ? announcer->Reload(std::move(*bus)) : bus.status();
    if (s.ok()) {
      EC_LOG(kInfo, "bus reloaded").Field("config", options.bus_config.string());
    } else {
      EC_LOG(kError, "bus reload refused").Field("error", s);
    }
  };
  auto signals = daemon::DaemonSignals::Install(
      **base, {.on_stop =
                   [&base] {
                     daemon::NotifyStopping();
                     (*base)->Stop();
                   },
               .on_reload = reload_bus});
  if (!signals.ok()) return CannotStart(signals.status());
  daemon::NotifyReady();  // the HTTPS listener accepts connections
  Status ran = (*base)->Run();
  EC_LOG(kInfo, "ecconfigd stopping");
  // The server's callbacks reach the announcer: the server goes first.
  server->reset();
  announcer.reset();
  signals->reset();
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
