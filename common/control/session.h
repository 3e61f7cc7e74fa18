// Session: one console connection of a control Server. Reads request lines, runs one command
// at a time (reading pauses while a reply is outstanding, so responses keep request order),
// writes framed responses, and closes on EOF, error, idle timeout, an oversized line or `quit`.
// Owned by its Server through a shared_ptr; Replies hold weak_ptrs, so a reply to a session
// that has gone is dropped. Loop thread only. Internal to common/control.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/control/commands.h"
#include "common/control/protocol.h"
#include "common/event/handles.h"

namespace ec::control {

class Server;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server* server, uint64_t id, std::string peer);
  ~Session();
  // Takes over `fd`; false (fd closed) if libevent could not wrap it.
  bool Open(int fd);

 private:
  static void OnRead(bufferevent*, void* arg);
  static void OnWrite(bufferevent*, void* arg);
  static void OnEvent(bufferevent*, short what, void* arg);

  void ProcessInput();
  void Dispatch(const std::string& line);
  void Deliver(Response response);
  void Write(const Response& response);
  // Stops reading and closes once the output has drained.
  void CloseAfterWrite();
  void Close();

  Server* server_;
  const uint64_t id_;
  const std::string peer_;
  event::BufferEventPtr bev_;
  RequestFramer framer_;
  bool busy_ = false;        // a command's reply is outstanding
  bool processing_ = false;  // inside ProcessInput: a synchronous reply must not recurse
  bool closing_ = false;
  bool quit_after_reply_ = false;
  bool eof_ = false;  // the client half-closed; close once its requests are answered
};

}  // namespace ec::control
