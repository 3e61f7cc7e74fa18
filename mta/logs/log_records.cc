#include "mta/logs/log_records.h"

#include <charconv>
#include <cstdio>
#include <string_view>

namespace ec::mta {
namespace {

// Keeps one event on one line whatever a peer sent us: appends `s` with CR and LF as spaces.
void AppendOneLine(std::string* out, std::string_view s) {
  const size_t start = out->size();
  out->append(s);
  for (size_t i = start; i < out->size(); ++i) {
    if ((*out)[i] == '\r' || (*out)[i] == '\n') (*out)[i] = ' ';
  }
}

std::string OneLine(const std::string& s) {
  std::string out;
  AppendOneLine(&out, s);
  return out;
}

// Fields are appended in place (no copy per field): two of these lines are written for every
// message relayed.
class AtLine {
 public:
  explicit AtLine(std::time_t t) {
    line_.reserve(192);
    AppendNumber(static_cast<long long>(t));
  }
  AtLine& Add(std::string_view field) {
    line_ += '@';
    AppendOneLine(&line_, field);
    return *this;
  }
  AtLine& Add(uint64_t n) {
    line_ += '@';
    AppendNumber(n);
    return *this;
  }
  AtLine& Add(int n) {
    line_ += '@';
    AppendNumber(n);
    return *this;
  }
  AtLine& AddSeconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", s);
    return Add(std::string_view(buf));
  }
  std::string Take() { return std::move(line_); }

 private:
  template <typename N>
  void AppendNumber(N n) {
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, n).ptr;
    line_.append(buf, end);
  }

  std::string line_;
};

std::string Quoted(const std::string& v) {
  std::string out = "\"";
  for (char c : OneLine(v)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

// Momentum quotes a context value only when it contains a separator.
std::string ContextValue(const std::string& v) {
  if (v.find_first_of(" ,=\"[]") == std::string::npos) return OneLine(v);
  return Quoted(v);
}

std::string Context(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out = "[";
  for (size_t i = 0; i < kv.size(); ++i) {
    if (i) out += ',';
    out += kv[i].first + "=" + ContextValue(kv[i].second);
  }
  return out + "]";
}

// acctlog fields: Momentum's backslash before '@' and '\\', and a visible escape for a
// control character (a raw one would end the record).
std::string AcctField(const std::string& v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : v) {
    if (c == '@' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

std::string FormatAuthentication(const AuthenticationRecord& r) {
  return std::to_string(static_cast<long long>(r.time)) + (r.timeout ? "@T@" : "@N@") +
         AcctField(r.listener) + "@" + AcctField(r.peer) + "@" + AcctField(r.user) + "@" +
         (r.accepted ? "1" : "0");
}

std::string FormatAuthorization(const AuthorizationRecord& r) {
  std::string line = std::to_string(static_cast<long long>(r.time)) + "@Z@" +
                     AcctField(r.listener) + "@" + AcctField(r.peer) + "@" + AcctField(r.user) +
                     "@" + std::to_string(r.result) + "@" + AcctField(r.command);
  // Momentum writes the matched role only for an allowed command.
  if (r.result == 1) line += "@" + AcctField(r.role);
  return line;
}

std::string FormatReception(const ReceptionRecord& r) {
  return AtLine(r.time)
      .Add(r.message_id).Add(r.batch_id).Add(r.connection_id).Add(std::string("R"))
      .Add(r.rcpt_localpart).Add(r.rcpt_domain).Add(r.sender_localpart).Add(r.sender_domain)
      .Add(r.client_ip).Add(r.size).Add(r.protocol).Add(r.binding_group).Add(r.binding)
      .Take();
}

std::string FormatDelivery(const DeliveryRecord& r) {
  return AtLine(r.time)
      .Add(r.message_id).Add(r.batch_id).Add(r.connection_id)
      .Add(std::string(r.transfer ? "X" : "D"))
      .Add(r.domain).Add(r.size).Add(r.binding_group).Add(r.binding).Add(r.retries)
      .AddSeconds(r.seconds_since_reception).Add(r.remote_ip)
      .Take();
}

std::string FormatFailure(const FailureRecord& r) {
  return AtLine(r.time)
      .Add(r.message_id).Add(r.batch_id).Add(r.connection_id)
      .Add(std::string(r.permanent ? "P" : "T"))
      .Add(r.domain).Add(r.bytes_transferred).Add(r.binding_group).Add(r.binding).Add(r.stage)
      .Add(r.retries).AddSeconds(r.seconds_since_reception).Add(r.remote_ip).Add(r.response)
      .Take();
}

std::string FormatBounce(const BounceRecord& r) {
  return AtLine(r.time)
      .Add(r.message_id).Add(r.batch_id).Add(r.connection_id).Add(std::string("B"))
      .Add(r.rcpt_localpart).Add(r.rcpt_domain).Add(r.sender_localpart).Add(r.sender_domain)
      .Add(r.binding_group).Add(r.binding).Add(r.stage).Add(r.bounce_class).Add(r.size)
      .Add(r.remote_ip).Add(r.response)
      .Take();
}

std::string FormatMainlogHeartbeat(std::time_t time) {
  return std::to_string(static_cast<long long>(time)) + "@@@@M";
}

std::string FormatRejection(const RejectionRecord& r) {
  std::string line = std::to_string(static_cast<long long>(r.time)) + ":";
  line += " R=" + Quoted(r.remote);
  line += " L=" + Quoted(r.local);
  line += " C=" + Quoted(r.connection_id);
  line += " PATH=" + Quoted(r.pathway);
  line += " PATH_GRP=" + Quoted(r.pathway_group);
  line += " P=" + Quoted(r.phase);
  line += " E=" + std::to_string(r.code);
  line += " M=" + OneLine(r.module);
  line += " CTXCONN=" + Context(r.connection_context);
  line += " CTXMESS=" + Context(r.message_context);
  line += " " + OneLine(r.text);
  return line;
}

std::string FormatRejectlogHeartbeat(std::time_t time) {
  return std::to_string(static_cast<long long>(time)) + ": Marker 1";
}

std::string FormatPanic(std::time_t time, const std::string& text) {
  return std::to_string(static_cast<long long>(time)) + ": " + OneLine(text);
}

}  // namespace ec::mta
