// The records ecmta writes to its mainlog, rejectlog and paniclog, formatted exactly as Momentum
// writes them (reference/momentum.md §6), so operators' parsers and the manager's aggregation
// read our lines unchanged. Pure functions; any thread.
//
// mainlog is '@'-separated with the record type at offset 4 (R reception, D delivery, X transfer,
// T transient failure, P permanent failure, M heartbeat); rejectlog is space-separated key=value;
// acctlog is '@'-separated with the type at offset 1 (N authentication, Z authorization).
// A field can never break a line: CR and LF inside a field become spaces (acctlog: escaped).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

namespace ec::mta {

// One R line per recipient of an accepted message.
struct ReceptionRecord {
  std::time_t time = 0;
  std::string message_id;
  std::string batch_id;
  std::string connection_id;
  std::string rcpt_localpart, rcpt_domain;
  std::string sender_localpart, sender_domain;  // empty for the null sender
  std::string client_ip;
  uint64_t size = 0;
  std::string protocol = "esmtp";  // esmtp | rest | xfer | internal
  std::string binding_group = "default";
  std::string binding = "default";
};

// D (delivered) or X (transferred to another node).
struct DeliveryRecord {
  std::time_t time = 0;
  std::string message_id, batch_id, connection_id;
  bool transfer = false;
  std::string domain;
  uint64_t size = 0;
  std::string binding_group = "default", binding = "default";
  int retries = 0;
  double seconds_since_reception = 0;
  std::string remote_ip;
};

// T (transient, will retry) or P (permanent).
struct FailureRecord {
  std::time_t time = 0;
  std::string message_id, batch_id, connection_id;
  bool permanent = false;
  std::string domain;
  uint64_t bytes_transferred = 0;
  std::string binding_group = "default", binding = "default";
  int stage = 0;  // connection stage (Momentum's table)
  int retries = 0;
  double seconds_since_reception = 0;
  std::string remote_ip;
  std::string response;
};

// B: one permanently failed recipient, with its bounce class (bouncelog).
struct BounceRecord {
  std::time_t time = 0;
  std::string message_id, batch_id, connection_id;
  std::string rcpt_localpart, rcpt_domain;
  std::string sender_localpart, sender_domain;
  std::string binding_group = "default", binding = "default";
  int stage = 0;
  int bounce_class = 1;
  uint64_t size = 0;
  std::string remote_ip;
  std::string response;
};

struct RejectionRecord {
  std::time_t time = 0;
  std::string remote;  // "ip:port"
  std::string local;   // "ip:port"
  std::string connection_id;
  std::string pathway = "default", pathway_group = "default";
  std::string phase;  // "awaiting mailfrom", "awaiting rcpt", "connect", ...
  int code = 550;
  std::string module = "smtp";
  std::vector<std::pair<std::string, std::string>> connection_context;
  std::vector<std::pair<std::string, std::string>> message_context;
  std::string text;
};

// acctlog: one authentication attempt on a listener (SMTP AUTH), Momentum's
//   ts@N@<listener>@<peer ip:port>@<user>@<1 accepted | 0 refused>
// (T instead of N: the client gave up during authentication). Momentum escapes '@' and '\'
// in a field with a '\' before them; a control character becomes \n, \r, \t or \xHH so
// the record stays on its line.
struct AuthenticationRecord {
  std::time_t time = 0;
  bool timeout = false;
  std::string listener;  // the local endpoint, "127.0.0.2:25"
  std::string peer;      // "ip:port"; empty for a unix socket
  std::string user;
  bool accepted = false;
};

std::string FormatReception(const ReceptionRecord& r);
std::string FormatDelivery(const DeliveryRecord& r);
std::string FormatFailure(const FailureRecord& r);
// bouncelog: ts@msgid@batch@conn@B@rcptlocal@rcptdomain@senderlocal@senderdomain@group@binding
// @stage@class@size@ip@response
std::string FormatBounce(const BounceRecord& r);
std::string FormatAuthentication(const AuthenticationRecord& r);

// acctlog: a console command a session asked to run, Momentum's
//   ts@Z@<listener>@<peer ip:port>@<user>@1@<command>@<role>   (allowed)
//   ts@Z@<listener>@<peer ip:port>@<user>@0@<command>          (refused; -1: an error)
// escaped as the N record. ecmta has no console roles: an allowed command's role is empty.
struct AuthorizationRecord {
  std::time_t time = 0;
  std::string listener;  // the console socket's path, or "127.0.0.1:2025"
  std::string peer;      // "ip:port"; empty for a unix socket
  std::string user;      // empty: the session had not logged in
  int result = 0;        // 1 allowed, 0 refused, -1 error
  std::string command;
  std::string role;
};
std::string FormatAuthorization(const AuthorizationRecord& r);
std::string FormatMainlogHeartbeat(std::time_t time);
std::string FormatRejection(const RejectionRecord& r);
std::string FormatRejectlogHeartbeat(std::time_t time);
// paniclog: "<time>: <text>"; for internal errors an operator must look at.
std::string FormatPanic(std::time_t time, const std::string& text);

}  // namespace ec::mta
