// Session: one console connection of a control Server. Reads request lines, runs one command
// at a time (reading pauses while a reply is outstanding, so responses keep request order),
// writes framed responses, and closes on EOF, error, idle timeout, an oversized line or `quit`.
// A TCP session must `login` first: the password is checked on the server's PasswordVerifier
// thread, a failure is answered after a delay and counted (per session and per client IP).
// Owned by its Server through a shared_ptr; Replies hold weak_ptrs, so a reply to a session
// that has gone is dropped. Loop thread only. Internal to common/control.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/control/accounting.h"
#include "common/control/commands.h"
#include "common/control/protocol.h"
#include "common/event/handles.h"
#include "common/event/timer.h"

namespace ec::control {

class Server;

class Session : public std::enable_shared_from_this<Session> {
 public:
  struct Peer {
    std::string name;       // for logs: "127.0.0.1:40000", "unix:uid:0"
    std::string host;       // the client IP (login throttling); empty on the unix socket
    std::string principal;  // "uid:<n>" on the unix socket; empty until login on TCP
    bool needs_login = false;
    std::string listener;  // for the acctlog: the socket path or the bound "ip:port"
    std::string address;   // for the acctlog: "ip:port"; empty on the unix socket
  };
  Session(Server* server, uint64_t id, Peer peer);
  ~Session();
  // Takes over `fd`; false (fd closed) if libevent could not wrap it.
  bool Open(int fd);

 private:
  static void OnRead(bufferevent*, void* arg);
  static void OnWrite(bufferevent*, void* arg);
  static void OnEvent(bufferevent*, short what, void* arg);

  void ProcessInput();
  void Dispatch(const std::string& line);
  void Login(std::string_view line);
  void OnLoginChecked(const std::string& user, bool ok);
  // To the server's on_accounting, if set.
  void Account(AccountingEvent::Kind kind, const std::string& user, bool allowed,
               const std::string& command = "");
  void Deliver(Response response);
  void Write(const Response& response);
  // Stops reading and closes once the output has drained.
  void CloseAfterWrite();
  void Close();

  Server* server_;
  const uint64_t id_;
  const std::string peer_;
  const std::string peer_host_;
  const std::string listener_;
  const std::string address_;
  const bool needs_login_;
  std::string principal_;  // Request::principal of every command this session runs
  int login_failures_ = 0;
  std::unique_ptr<event::Timer> login_delay_;
  event::BufferEventPtr bev_;
  RequestFramer framer_;
  bool busy_ = false;        // a command's reply is outstanding
  bool processing_ = false;  // inside ProcessInput: a synchronous reply must not recurse
  bool closing_ = false;
  bool quit_after_reply_ = false;
  bool eof_ = false;  // the client half-closed; close once its requests are answered
};

}  // namespace ec::control
