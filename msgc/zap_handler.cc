#include "msgc/zap_handler.h"

#include <zmq_addon.hpp>

#include "msgc/curve_keys.h"

namespace ec::msgc {
namespace {
constexpr auto kRefusalLogInterval = std::chrono::seconds(10);
}  // namespace

ZapHandler::ZapHandler(zmq::context_t& context, LogFn log)
    : socket_(context, zmq::socket_type::rep), log_(std::move(log)) {}

Result<std::unique_ptr<ZapHandler>> ZapHandler::Create(
    event_base* base, zmq::context_t& context,
    const std::map<std::string, std::string>& public_keys, LogFn log) {
  std::unique_ptr<ZapHandler> zap(new ZapHandler(context, std::move(log)));
  EC_ASSIGN_OR_RETURN(zap->name_by_key_, NameByKey(public_keys));
  try {
    zap->socket_.set(zmq::sockopt::linger, 0);
    zap->socket_.bind("inproc://zeromq.zap.01");
  } catch (const zmq::error_t& e) {
    return Internal(std::string("binding the ZAP handler: ") + e.what());
  }
  ZapHandler* raw = zap.get();
  EC_ASSIGN_OR_RETURN(zap->watcher_,
                      SocketWatcher::Create(base, zap->socket_, [raw] { raw->Drain(); }));
  return zap;
}

Result<std::map<std::string, std::string>> ZapHandler::NameByKey(
    const std::map<std::string, std::string>& public_keys) {
  std::map<std::string, std::string> name_by_key;
  for (const auto& [name, key] : public_keys) {
    auto binary = Z85ToBinary(key);
    if (!binary.ok()) return binary.status().WithContext("public key of " + name);
    if (!name_by_key.emplace(*binary, name).second) {
      return InvalidArgument("nodes " + name_by_key[*binary] + " and " + name +
                             " have the same public key");
    }
  }
  return name_by_key;
}

Status ZapHandler::SetKeys(const std::map<std::string, std::string>& public_keys) {
  EC_ASSIGN_OR_RETURN(name_by_key_, NameByKey(public_keys));
  return Status::Ok();
}

void ZapHandler::Drain() {
  try {
    while (Readable(socket_)) {
      std::vector<zmq::message_t> request;
      if (!zmq::recv_multipart(socket_, std::back_inserter(request), zmq::recv_flags::dontwait)) {
        break;
      }
      Handle(request);
    }
  } catch (const zmq::error_t& e) {
    if (e.num() != ETERM) log_(std::string("msgc: event=zap_error error=\"") + e.what() + "\"");
  }
}

void ZapHandler::Handle(std::vector<zmq::message_t>& request) {
  // version, request id, domain, address, routing id, mechanism, credentials...
  if (request.size() < 6) return;  // not a ZAP request; REP needs a reply but has no id to echo
  const std::string request_id = request[1].to_string();
  const std::string address = request[3].to_string();
  const std::string mechanism = request[5].to_string();
  std::string status = "400", text, user_id;
  std::string key_text = "-";
  if (request[0].to_string() != "1.0") {
    text = "unsupported ZAP version";
  } else if (mechanism != "CURVE" || request.size() != 7 || request[6].size() != 32) {
    text = "CURVE required";
  } else {
    const std::string key = request[6].to_string();
    key_text = BinaryToZ85(key);
    auto it = name_by_key_.find(key);
    if (it == name_by_key_.end()) {
      text = "unknown public key";
    } else {
      status = "200";
      text = "OK";
      user_id = it->second;
    }
  }
  if (status == "200") {
    ++accepted_;
  } else {
    ++refused_;
    LogRefusal(address, key_text, text);
  }
  // ZMTP metadata: name length (1 byte), name, value length (4 bytes, big endian), value.
  std::string metadata;
  if (status == "200") {
    const std::string name = kZapKeyProperty;
    metadata.push_back(static_cast<char>(name.size()));
    metadata += name;
    const uint32_t size = static_cast<uint32_t>(key_text.size());
    for (int shift = 24; shift >= 0; shift -= 8)
      metadata.push_back(static_cast<char>(size >> shift));
    metadata += key_text;
  }
  std::array<zmq::const_buffer, 6> reply = {zmq::str_buffer("1.0"), zmq::buffer(request_id),
                                            zmq::buffer(status),    zmq::buffer(text),
                                            zmq::buffer(user_id),   zmq::buffer(metadata)};
  zmq::send_multipart(socket_, reply, zmq::send_flags::dontwait);
}

void ZapHandler::LogRefusal(const std::string& address, const std::string& key,
                            const std::string& why) {
  const auto now = std::chrono::steady_clock::now();
  if (refusal_log_.size() > 1024) refusal_log_.clear();  // a key-cycling client cannot grow it
  auto [it, first] = refusal_log_.try_emplace(address + " " + key);
  RefusalLog& entry = it->second;
  if (!first && now - entry.last_logged < kRefusalLogInterval) {
    ++entry.suppressed;
    return;
  }
  std::string line =
      "msgc: event=peer_refused address=" + address + " key=" + key + " reason=\"" + why + "\"";
  if (entry.suppressed > 0) line += " repeated=" + std::to_string(entry.suppressed);
  entry.last_logged = now;
  entry.suppressed = 0;
  log_(line);
}

}  // namespace ec::msgc
