// ec_spool: look into a node's spool offline (the daemon must be stopped: the spool is locked
// while ecmta runs). `ec_spool --spoolbase DIR list [--header Message-ID]` prints one line per
// queued message: queue id, the header's value (if asked), recipients pending, body bytes.
#include <boost/program_options.hpp>
#include <iostream>
#include <string>

#include "mta/spool/spool.h"

namespace po = boost::program_options;

namespace {

// The value of header `name` (case-insensitive) in the message's header section, unfolded.
std::string HeaderValue(const std::string& message, const std::string& name) {
  size_t pos = 0;
  while (pos < message.size()) {
    size_t eol = message.find("\r\n", pos);
    if (eol == std::string::npos) eol = message.size();
    if (eol == pos) break;  // end of headers
    std::string line = message.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon == name.size() && strncasecmp(line.c_str(), name.c_str(), name.size()) == 0) {
      std::string value = line.substr(colon + 1);
      // Folded continuation lines.
      size_t next = eol + 2;
      while (next < message.size() && (message[next] == ' ' || message[next] == '\t')) {
        size_t e = message.find("\r\n", next);
        if (e == std::string::npos) e = message.size();
        value += message.substr(next, e - next);
        next = e + 2;
      }
      size_t b = value.find_first_not_of(" \t");
      return b == std::string::npos ? "" : value.substr(b);
    }
    pos = eol + 2;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  std::string spoolbase, header, command;
  po::options_description desc(
      "ec_spool: list the messages in a stopped node's spool\n\n"
      "Usage: ec_spool --spoolbase DIR list [--header NAME]\n\nOptions");
  desc.add_options()("help,h", "print this help and exit")(
      "spoolbase", po::value(&spoolbase)->required(), "the spool directory")(
      "header", po::value(&header), "also print this header's value (e.g. Message-ID)");
  po::options_description hidden;
  hidden.add_options()("command", po::value(&command));
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("command", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "ec_spool: " << e.what() << "\n";
    return 2;
  }
  if (command != "list") {
    std::cerr << "ec_spool: unknown command \"" << command << "\" (try: list)\n";
    return 2;
  }
  ec::spool::SpoolOptions options;
  options.spoolbase = spoolbase;
  options.log = [](std::string_view line) { std::cerr << line << "\n"; };
  auto spool = ec::spool::Spool::Open(std::move(options));
  if (!spool.ok()) {
    std::cerr << "ec_spool: " << spool.status().message() << "\n";
    return 1;
  }
  for (ec::spool::QueueId id : (*spool)->ListIds()) {
    auto message = (*spool)->ReadMessage(id);
    auto body = (*spool)->ReadBody(id);
    if (!message.ok() || !body.ok()) {
      std::cerr << "ec_spool: " << id.ToString() << ": "
                << (message.ok() ? body.status() : message.status()).message() << "\n";
      return 1;
    }
    size_t pending = 0;
    for (const auto& st : message->states) {
      pending += st.kind == ec::spool::RecipientState::Kind::kPending;
    }
    std::cout << id.ToString();
    if (!header.empty()) std::cout << "\t" << HeaderValue(*body, header);
    std::cout << "\t" << pending << "\t" << body->size() << "\n";
  }
  return 0;
}
