// eccfg: the config working-copy tool. Parses options and hands over to cli.cc.
#include <boost/program_options.hpp>
#include <csignal>
#include <iostream>

#include "eccfg/cli.h"
#include "eccfg/enrol.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  ec::eccfg::CliOptions o;
  std::string root, wc, boot, cert, secret, password_file, validate, reload, ecmta, control;
  std::string password, token_file;
  po::options_description opts(
      "Usage: eccfg COMMAND [FILE...] [options]\n"
      "Commands:\n"
      "  bootstrap   first checkout; writes cluster.boot, pins the server certificate\n"
      "  pull        fetch the newest revision, merge local edits, validate, swap atomically\n"
      "  commit      send local edits to the repository (fast-forward only)\n"
      "  status      list local edits (M modified, ? unknown, ! missing, A/D staged, C conflict)\n"
      "  diff        show local edits as a unified diff\n"
      "  log         show the history\n"
      "  revert FILE...   throw away local edits of FILEs\n"
      "  resolve FILE...  mark FILEs left in conflict by pull --manual as resolved\n"
      "  rollback REV     commit a new revision with the files of REV, then pull it\n"
      "  enrol       after unpacking ecconfigd's clone package: make this node's bus key, enrol\n"
      "              with the one-time token ($ECCFG_ENROL_TOKEN or --token-file), first pull\n"
      "Exit codes: 0 ok, 1 usage, 2 conflict, 3 invalid config, 4 refused (stale, conflicts\n"
      "pending, no working copy), 5 authentication, 6 ecconfigd unreachable, 7 reload failed,\n"
      "8 working copy busy, 9 other error\n"
      "Options");
  // clang-format off
  opts.add_options()
      ("help,h", "print this help")
      ("root", po::value(&root)->default_value("/opt/ecmta"), "root directory")
      ("wc,working-copy", po::value(&wc), "working copy (default <root>/etc/conf)")
      ("boot", po::value(&boot), "cluster.boot file (default: beside the working copy)")
      ("repo", po::value(&o.repo),
       "host[:port] of ecconfigd (default port 2027), or the path of ecconfigd's state dir on "
       "this host; overrides cluster.boot")
      ("clustername", po::value(&o.cluster_name), "bootstrap: the subcluster (default: default)")
      ("node-name", po::value(&o.node_name), "bootstrap: this node's name")
      ("cert", po::value(&cert), "bootstrap: ecconfigd's server.crt, pinned for every request")
      ("secret-file", po::value(&secret), "bootstrap: ecconfigd's cluster.secret")
      ("token-file", po::value(&token_file), "enrol: file whose first line is the token")
      ("username", po::value(&o.user), "admin user for commit (default $USER)")
      ("password-file", po::value(&password_file),
       "commit: file whose first line is the admin password (else $ECCFG_PASSWORD, else a "
       "prompt on the terminal; never on the command line)")
      ("auto", "pull: cron mode (quiet when nothing changed; honours autoupdate=)")
      ("mine", "pull: on conflict keep the local side")
      ("theirs", "pull: on conflict take the repository's side")
      ("manual", "pull: on conflict write conflict markers and apply (then eccfg resolve)")
      ("watch", "pull: keep running; pull as soon as a new revision is committed")
      ("watch-limit", po::value(&o.watch_limit)->default_value(0),
       "pull --watch: stop after this many pulls (0: never)")
      ("wait", po::value(&o.wait_seconds)->default_value(55), "pull --watch: long poll, seconds")
      ("validate", po::value(&validate),
       "pull: shell command run in each new checkout (EC_CONF_DIR) before the swap; non-zero "
       "refuses it; none: no check (default: cluster.boot's validate_command, else ecmta "
       "--check-config over the new checkout)")
      ("ecmta", po::value(&ecmta),
       "pull: the ecmta binary that validates (default: cluster.boot's ecmta=, else beside "
       "eccfg, else $PATH)")
      ("reload", po::value(&reload),
       "pull: shell command run after a swap; none: no reload (default: cluster.boot's "
       "reload_command, else `config reload` to the control socket)")
      ("control-socket", po::value(&control),
       "pull: the running ecmta's control socket or host:port (default "
       "<root>/run/ec_console.sock)")
      ("message,m", po::value(&o.message), "commit: the log message")
      ("add-all", "commit: also add files not yet in the repository")
      ("delete-all", "commit: also remove missing files from the repository")
      ("limit", po::value(&o.limit)->default_value(20), "log: number of revisions")
      ("quiet,q", "print only errors");
  // clang-format on
  po::options_description hidden;
  // Known only to refuse it with advice (and not as an abbreviation of --password-file).
  hidden.add_options()("password", po::value(&password))("command", po::value(&o.command))(
      "args", po::value(&o.args)->composing());
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1).add("args", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "eccfg: " << e.what() << " (see --help)\n";
    return ec::eccfg::kExitUsage;
  }
  if (vm.count("password")) {
    std::cerr << "eccfg: --password is refused: other users can read the command line; use "
                 "--password-file FILE, the ECCFG_PASSWORD environment variable, or type it at "
                 "the prompt\n";
    return ec::eccfg::kExitUsage;
  }
  if (vm.count("help") || o.command.empty()) {
    std::cout << opts << "\n";
    return vm.count("help") ? 0 : ec::eccfg::kExitUsage;
  }
  o.wc = wc.empty() ? root + "/etc/conf" : wc;
  o.boot_file = boot;
  o.certificate = cert;
  o.secret_file = secret;
  o.password_file = password_file;
  if (vm.count("validate")) o.validate_command = validate;
  if (vm.count("reload")) o.reload_command = reload;
  if (vm.count("ecmta")) o.ecmta = ecmta;
  if (vm.count("control-socket")) o.control_socket = control;
  o.auto_mode = vm.count("auto") > 0;
  o.mine = vm.count("mine") > 0;
  o.theirs = vm.count("theirs") > 0;
  o.manual = vm.count("manual") > 0;
  o.watch = vm.count("watch") > 0;
  o.add_all = vm.count("add-all") > 0;
  o.delete_all = vm.count("delete-all") > 0;
  o.quiet = vm.count("quiet") > 0 || o.auto_mode;
  ::signal(SIGPIPE, SIG_IGN);  // a server hanging up is an error message, not a crash
  if (o.command == "enrol") {
    o.secret_file = token_file;
    return ec::eccfg::RunEnrol(o, std::cout, std::cerr);
  }
  return ec::eccfg::RunCli(o, std::cout, std::cerr);
}
