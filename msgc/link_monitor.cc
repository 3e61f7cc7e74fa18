#include "msgc/link_monitor.h"

#include <atomic>
#include <cstring>
#include <zmq_addon.hpp>

namespace ec::msgc {
namespace {

constexpr int kEvents = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                        ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                        ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

std::string FailureReason(uint16_t event, uint32_t value) {
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
    return "peer refused our key (is our public key committed to global/msgc_keys?)";
  }
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
      value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC) {
    return "CURVE handshake failed (the peer does not hold the key committed for it?)";
  }
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
    return "handshake protocol error " + std::to_string(value) +
           " (plain text against CURVE, or not a bus peer?)";
  }
  // CURVE: the server could not decrypt our HELLO/INITIATE because it holds another key.
  return "handshake failed (the peer does not hold the key committed for it, or hung up)";
}

}  // namespace

LinkMonitor::LinkMonitor(zmq::context_t& context, zmq::socket_t& dealer, std::string peer,
                         LogFn log)
    : dealer_(dealer),
      pair_(context, zmq::socket_type::pair),
      peer_(std::move(peer)),
      log_(std::move(log)) {}

Result<std::unique_ptr<LinkMonitor>> LinkMonitor::Create(event_base* base, zmq::context_t& context,
                                                         zmq::socket_t& dealer, std::string peer,
                                                         LogFn log) {
  std::unique_ptr<LinkMonitor> monitor(
      new LinkMonitor(context, dealer, std::move(peer), std::move(log)));
  // Unique per monitor in the process: a link replaced by a config reload may get a new socket
  // at the old one's address while the old monitor endpoint is still being torn down.
  static std::atomic<uint64_t> next_id{1};
  const std::string endpoint = "inproc://msgc-link-" + std::to_string(next_id++);
  if (zmq_socket_monitor(dealer.handle(), endpoint.c_str(), kEvents) != 0) {
    return Internal(std::string("zmq_socket_monitor: ") + zmq_strerror(zmq_errno()));
  }
  try {
    monitor->pair_.set(zmq::sockopt::linger, 0);
    monitor->pair_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return Internal(std::string("connecting the link monitor: ") + e.what());
  }
  LinkMonitor* raw = monitor.get();
  EC_ASSIGN_OR_RETURN(monitor->watcher_,
                      SocketWatcher::Create(base, monitor->pair_, [raw] { raw->Drain(); }));
  return monitor;
}

LinkMonitor::~LinkMonitor() {
  watcher_.reset();
  zmq_socket_monitor(dealer_.handle(), nullptr, 0);  // stop before our PAIR end goes away
}

void LinkMonitor::Drain() {
  try {
    while (Readable(pair_)) {
      std::vector<zmq::message_t> parts;
      if (!zmq::recv_multipart(pair_, std::back_inserter(parts), zmq::recv_flags::dontwait)) {
        break;
      }
      if (parts.size() != 2 || parts[0].size() != 6) continue;  // not a v1 monitor event
      uint16_t event;
      uint32_t value;
      std::memcpy(&event, parts[0].data(), sizeof(event));
      std::memcpy(&value, static_cast<const char*>(parts[0].data()) + 2, sizeof(value));
      OnEvent(event, value);
    }
  } catch (const zmq::error_t& e) {
    if (e.num() != ETERM) log_(std::string("msgc: event=monitor_error error=\"") + e.what() + "\"");
  }
}

void LinkMonitor::OnEvent(uint16_t event, uint32_t value) {
  if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
    up_ = true;
    last_failure_.clear();
    return;
  }
  if (event == ZMQ_EVENT_DISCONNECTED) {
    up_ = false;
    return;
  }
  ++handshake_failures_;
  const std::string reason = FailureReason(event, value);
  if (reason != last_failure_) {
    log_("msgc: event=link_refused peer=" + peer_ + " reason=\"" + reason + "\"");
    last_failure_ = reason;
  }
}

}  // namespace ec::msgc
