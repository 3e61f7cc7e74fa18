// ec_console: the console client. `ec_console SOCKET 'summary'` runs one command (batch);
// `ec_console SOCKET` reads commands from stdin (interactive when stdin is a terminal).
// SOCKET is a control socket path or host:port; without it, <root>/run/ec_console.sock.
// A TCP console needs a login: --user NAME, the password from --password-file, else
// $EC_CONSOLE_PASSWORD, else a prompt on the terminal (never on the command line).
#include <termios.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "common/control/client.h"
#include "common/daemon/root_layout.h"

namespace po = boost::program_options;

namespace {

// The first line of `path`; false if it cannot be read.
bool ReadPasswordFile(const std::string& path, std::string* password) {
  std::ifstream in(path);
  if (!in || !std::getline(in, *password)) return false;
  if (!password->empty() && password->back() == '\r') password->pop_back();
  return true;
}

// Reads a line from the terminal with echo off.
bool PromptPassword(const std::string& user, std::string* password) {
  if (!::isatty(0)) return false;
  std::cerr << "password for " << user << ": " << std::flush;
  termios old{};
  const bool have_tty = tcgetattr(0, &old) == 0;
  if (have_tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(0, TCSAFLUSH, &quiet);
  }
  const bool ok = static_cast<bool>(std::getline(std::cin, *password));
  if (have_tty) tcsetattr(0, TCSAFLUSH, &old);
  std::cerr << "\n";
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::string root = "/opt/ecmta";
  int timeout_s = 60;
  std::string password_file;
  ec::control::Credentials credentials;
  std::vector<std::string> words;
  po::options_description desc(
      "ec_console: run console commands on an ecmta node or the manager\n\n"
      "Usage: ec_console [options] [SOCKET|HOST:PORT] [COMMAND...]\n"
      "  ec_console /opt/ecmta/run/ec_console.sock summary\n"
      "  ec_console --user admin --password-file ~/.ec_console 127.0.0.1:2025 'config reload'\n"
      "  ec_console                 (interactive, on <root>/run/ec_console.sock)\n\nOptions");
  desc.add_options()("help,h", "print this help and exit")(
      "root", po::value(&root)->default_value(root), "runtime root, for the default socket")(
      "timeout", po::value(&timeout_s)->default_value(timeout_s),
      "seconds to wait for each answer")("user,u", po::value(&credentials.user),
                                         "log in as this console user (TCP consoles)")(
      "password-file", po::value(&password_file),
      "read the password from this file's first line (else $EC_CONSOLE_PASSWORD, else a "
      "prompt on the terminal)");
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
  if (!words.empty() &&
      (words[0].find('/') != std::string::npos || words[0].find(':') != std::string::npos)) {
    endpoint = words[0];
    words.erase(words.begin());
  }
  auto timeout = std::chrono::milliseconds(timeout_s * 1000);
  if (!credentials.user.empty()) {
    const char* env = std::getenv("EC_CONSOLE_PASSWORD");
    if (!password_file.empty()) {
      if (!ReadPasswordFile(password_file, &credentials.password)) {
        std::cerr << "ec_console: cannot read the password file " << password_file << "\n";
        return 2;
      }
    } else if (env != nullptr) {
      credentials.password = env;
    } else if (!PromptPassword(credentials.user, &credentials.password)) {
      std::cerr << "ec_console: --user needs --password-file, $EC_CONSOLE_PASSWORD or a "
                   "terminal to ask on\n";
      return 2;
    }
  }
  if (words.empty()) {
    ec::control::InteractiveOptions options;
    options.show_prompt = ::isatty(0);
    options.timeout = timeout;
    options.credentials = credentials;
    return ec::control::InteractiveLoop(endpoint, std::cin, std::cout, std::cerr, options);
  }
  std::string command;
  for (const auto& w : words) command += (command.empty() ? "" : " ") + w;
  auto r = ec::control::RunCommand(endpoint, command, timeout, credentials);
  if (!r.ok()) {
    std::cerr << "ec_console: " << r.status().message() << "\n";
    return r.status().code() == ec::StatusCode::kFailedPrecondition ? 1 : 2;
  }
  std::cout << *r;
  if (!r->empty() && r->back() != '\n') std::cout << "\n";
  return 0;
}
