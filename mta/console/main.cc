// ec_console: the console client. `ec_console SOCKET 'summary'` runs one command (batch);
// `ec_console SOCKET` reads commands from stdin (interactive when stdin is a terminal).
// SOCKET is a control socket path or host:port; without it, <root>/run/ec_console.sock.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "common/control/client.h"
#include "common/daemon/root_layout.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  std::string root = "/opt/ecmta";
  int timeout_s = 60;
  std::vector<std::string> words;
  po::options_description desc(
      "ec_console: run console commands on an ecmta node or the manager\n\n"
      "Usage: ec_console [options] [SOCKET|HOST:PORT] [COMMAND...]\n"
      "  ec_console /opt/ecmta/run/ec_console.sock summary\n"
      "  ec_console 127.0.0.1:2025 'config reload'\n"
      "  ec_console                 (interactive, on <root>/run/ec_console.sock)\n\nOptions");
  desc.add_options()("help,h", "print this help and exit")(
      "root", po::value(&root)->default_value(root), "runtime root, for the default socket")(
      "timeout", po::value(&timeout_s)->default_value(timeout_s),
      "seconds to wait for each answer");
  po::options_description hidden;
  hidden.add_options()("words", po::value(&words));
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "ec_console: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  std::string endpoint = ec::daemon::RootLayout::FromRoot(root).ConsoleSocket().string();
  // The first word is the endpoint when it looks like one (a path or host:port).
  if (!words.empty() && (words[0].find('/') != std::string::npos ||
                         words[0].find(':') != std::string::npos)) {
    endpoint = words[0];
    words.erase(words.begin());
  }
  auto timeout = std::chrono::milliseconds(timeout_s * 1000);
  if (words.empty()) {
    ec::control::InteractiveOptions options;
    options.show_prompt = ::isatty(0);
    options.timeout = timeout;
    return ec::control::InteractiveLoop(endpoint, std::cin, std::cout, std::cerr, options);
  }
  std::string command;
  for (const auto& w : words) command += (command.empty() ? "" : " ") + w;
  auto r = ec::control::RunCommand(endpoint, command, timeout);
  if (!r.ok()) {
    std::cerr << "ec_console: " << r.status().message() << "\n";
    return r.status().code() == ec::StatusCode::kFailedPrecondition ? 1 : 2;
  }
  std::cout << *r;
  if (!r->empty() && r->back() != '\n') std::cout << "\n";
  return 0;
}
