// The console command set of one daemon: handlers registered by phrase ("summary",
// "config reload", "show cluster membership") and found by the longest phrase that matches the
// request's first words; the rest of the line is the command's arguments. A handler answers
// through a Reply, now or later (after a cluster fan-out, say).
// Registration and lookup run on the server's loop thread; a Reply may be used from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/control/protocol.h"

namespace ec::control {

struct Request {
  std::string line;                    // the request as received
  std::string command;                 // the matched phrase, lower case: "config reload"
  std::string args;                    // the rest of the line, trimmed, case kept
  std::vector<std::string> arg_words;  // args split on blanks
  std::string peer;                    // who asked (socket path or ip:port), for logs
  // Who is authenticated as having asked, for handlers that authorize: "msgc:<node>" for a
  // relayed bus command or an ECCluster request (the CURVE key's node), "user:<name>" for a
  // console login, "uid:<n>" for a unix-socket peer (SO_PEERCRED). Empty: not authenticated.
  std::string principal;
};

// The one answer to one request. Copies share it: the first Ok/Error wins and later calls are
// ignored; if every copy is dropped without answering, the client gets an error, so a buggy
// handler cannot hang a session. Thread-safe.
class Reply {
 public:
  using Sink = std::function<void(Response)>;
  explicit Reply(Sink sink);

  void Ok(std::string text) const { Send(Response{true, std::move(text)}); }
  void Error(std::string text) const { Send(Response{false, std::move(text)}); }
  void Send(Response response) const;
  bool answered() const { return state_->answered.load(); }

 private:
  struct State {
    explicit State(Sink s) : sink(std::move(s)) {}
    ~State();
    Sink sink;
    std::atomic<bool> answered{false};
  };
  std::shared_ptr<State> state_;
};

using Handler = std::function<void(const Request&, Reply)>;
// For the common case that answers at once: a Result's value is the text, its error the error.
using SyncHandler = std::function<Result<std::string>(const Request&)>;

class CommandRegistry {
 public:
  // `phrase` is one or more words of [a-z0-9_-] (matched case-insensitively); `help` is one
  // line for the `help` listing. kAlreadyExists if the phrase is taken.
  Status Register(std::string_view phrase, std::string help, Handler handler);
  Status RegisterSync(std::string_view phrase, std::string help, SyncHandler handler);

  struct Match {
    const Handler* handler;
    Request request;
  };
  // The longest registered phrase that `line` starts with (whole words), or nullopt.
  std::optional<Match> Find(std::string_view line) const;
  // "  phrase    help" lines, sorted by phrase.
  std::string HelpText() const;

 private:
  struct Entry {
    std::string help;
    Handler handler;
  };
  std::map<std::string, Entry> commands_;  // key: phrase words joined by one space
  size_t max_words_ = 0;
};

}  // namespace ec::control
