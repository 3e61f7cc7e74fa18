// DNS over TCP (RFC 1035 §4.2.2, RFC 7766), used when a UDP answer comes back truncated and
// dns_fallback_to_tcp is on. Every message on the stream carries a 2-byte big-endian length
// prefix. TcpFrameReader splits the stream (pure; any thread; fuzzed, since the bytes come from
// the network); TcpExchange asks one server one question on the event loop, non-blocking.
// TcpExchange is owned by the DnsResolver query that started it; loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "common/event/address.h"
#include "common/event/event_base.h"
#include "common/event/handles.h"
#include "mta/dns/dns_message.h"

namespace ec::dns {

// `message` with its length prefix; kInvalidArgument past 65535 bytes.
Result<std::string> FrameForTcp(std::string_view message);

// Splits a byte stream into length-prefixed messages. Holds at most one partial message (a
// prefix announces at most 65535 bytes) plus the bytes of the last Append().
class TcpFrameReader {
 public:
  void Append(std::string_view bytes);
  // The next whole message (possibly empty, if the peer framed an empty one), or nullopt until
  // more bytes arrive.
  std::optional<std::string> Next();
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  size_t pos_ = 0;  // start of the unread part of buf_
};

// One query over one TCP connection: connect, send, read messages until one parses as a
// response with the query's id. `done` runs once on the loop thread, never from Start(), and
// may destroy the exchange; destroying it first cancels it (no callback). The timeout covers
// the whole exchange.
class TcpExchange {
 public:
  using Callback = std::function<void(Result<DnsResponse>)>;
  TcpExchange(event::EventBase& base, event::SocketAddress server, uint16_t id,
              std::chrono::milliseconds timeout, Callback done);
  TcpExchange(const TcpExchange&) = delete;
  TcpExchange& operator=(const TcpExchange&) = delete;
  ~TcpExchange();

  // Sends `query` (unframed). An error here means no callback will come.
  Status Start(std::string_view query);

 private:
  static void OnEvent(evutil_socket_t fd, short what, void* arg);
  void Arm(short what);
  void OnWritable();
  void OnReadable();
  void Done(Result<DnsResponse> r);  // last thing a handler does: `this` may be gone after it

  event::EventBase& base_;
  event::SocketAddress server_;
  uint16_t id_;
  std::chrono::steady_clock::time_point deadline_;
  Callback done_;
  int fd_ = -1;
  event::EventPtr ev_;
  std::string out_;  // the framed query
  size_t sent_ = 0;
  TcpFrameReader reader_;
};

}  // namespace ec::dns
