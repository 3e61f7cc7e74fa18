#include "mta/smtp/command.h"

#include <charconv>

#include "mta/smtp/xtext.h"

namespace ec::smtp {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

Reply SyntaxError(std::string text) { return Reply{501, "5.5.2", std::move(text)}; }

Reply PathReply(PathError error, bool sender) {
  const std::string_view enhanced = sender ? "5.1.7" : "5.1.3";
  const std::string who = sender ? "sender" : "recipient";
  switch (error) {
    case PathError::kLocalTooLong:
      return Reply{501, enhanced, "Bad " + who + " address: local part longer than 64 octets"};
    case PathError::kDomainTooLong:
      return Reply{501, enhanced, "Bad " + who + " address: domain longer than 255 octets"};
    case PathError::kPathTooLong:
      return Reply{501, enhanced, "Bad " + who + " address: path longer than 256 octets"};
    case PathError::kUtf8NotAllowed:
      return Reply{553, "5.6.7", "Non-ASCII address requires SMTPUTF8"};
    case PathError::kSyntax:
    case PathError::kNone:
      break;
  }
  return Reply{501, enhanced, "Bad " + who + " address syntax"};
}

bool ParseDecimal(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// ENVID and the ORCPT address must decode to printable US-ASCII (graphic or white space; RFC
// 3461 §4.2, §4.4). Returns the decoded length, or nullopt.
std::optional<size_t> PrintableXtextLength(std::string_view s) {
  if (!IsXtext(s)) return std::nullopt;
  const std::string decoded = XtextDecode(s);
  for (const char ch : decoded) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (!((c >= 0x20 && c <= 0x7e) || c == '\t')) return std::nullopt;
  }
  return decoded.size();
}

// RFC 5322 atext, for the ORCPT addr-type.
bool IsAtom(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

Reply BadParam(std::string text) { return Reply{501, "5.5.4", std::move(text)}; }

struct Param {
  std::string_view key;
  std::optional<std::string_view> value;
};

// Parses "<path>[ SP params]" and fills the remaining parameter text.
Parsed<std::string_view> SplitPathAndParams(std::string_view args, std::string_view keyword,
                                            const PathOptions& path_options, bool sender,
                                            Mailbox* mailbox) {
  if (!StartsWithIgnoreCase(args, keyword)) {
    return SyntaxError(sender ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>");
  }
  args.remove_prefix(keyword.size());
  // Tolerate "MAIL FROM: <a@b>", which many clients send.
  while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
  if (args.empty() || args.front() != '<') return PathReply(PathError::kSyntax, sender);
  size_t consumed = 0;
  PathError error = ParsePath(args, path_options, mailbox, &consumed);
  if (error != PathError::kNone) return PathReply(error, sender);
  std::string_view rest = args.substr(consumed);
  if (!rest.empty() && rest.front() != ' ') return PathReply(PathError::kSyntax, sender);
  return TrimBlanks(rest);
}

// Calls fn(Param) for each space-separated "KEY[=VALUE]"; stops at the first error reply.
template <typename Fn>
std::optional<Reply> ForEachParam(std::string_view params, Fn fn) {
  while (!params.empty()) {
    const size_t sp = params.find(' ');
    std::string_view token = params.substr(0, sp);
    params = sp == std::string_view::npos ? std::string_view() : TrimBlanks(params.substr(sp));
    if (token.empty()) continue;
    Param p;
    const size_t eq = token.find('=');
    p.key = token.substr(0, eq);
    if (eq != std::string_view::npos) p.value = token.substr(eq + 1);
    if (p.key.empty()) return SyntaxError("Bad parameter syntax");
    if (std::optional<Reply> r = fn(p)) return r;
  }
  return std::nullopt;
}

Reply UnknownParam(std::string_view key) {
  return Reply{555, "5.5.4", "Unsupported parameter " + std::string(key)};
}

// RET=FULL|HDRS (RFC 3461 §4.3).
std::optional<Reply> ParseRet(const Param& p, MailCommand* mail) {
  if (mail->dsn_ret != spool::DsnRet::kUnset) return BadParam("Duplicate RET parameter");
  if (p.value && EqualsIgnoreCase(*p.value, "FULL")) {
    mail->dsn_ret = spool::DsnRet::kFull;
  } else if (p.value && EqualsIgnoreCase(*p.value, "HDRS")) {
    mail->dsn_ret = spool::DsnRet::kHeaders;
  } else {
    return BadParam("Bad RET parameter: use RET=FULL or RET=HDRS");
  }
  return std::nullopt;
}

// ENVID=xtext (RFC 3461 §4.4), kept as sent.
std::optional<Reply> ParseEnvid(const Param& p, bool* seen, MailCommand* mail) {
  if (*seen) return BadParam("Duplicate ENVID parameter");
  *seen = true;
  if (!p.value || p.value->empty()) return BadParam("Bad ENVID parameter: empty");
  const std::optional<size_t> length = PrintableXtextLength(*p.value);
  if (!length) return BadParam("Bad ENVID parameter: not xtext of printable ASCII");
  if (*length > kMaxEnvidLength) {
    return BadParam("Bad ENVID parameter: longer than " + std::to_string(kMaxEnvidLength) +
                    " characters");
  }
  mail->dsn_envid = std::string(*p.value);
  return std::nullopt;
}

// NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY (RFC 3461 §4.1).
std::optional<Reply> ParseNotify(const Param& p, RcptDsn* dsn) {
  if (dsn->notify != 0) return BadParam("Duplicate NOTIFY parameter");
  const Reply usage = BadParam("Bad NOTIFY parameter: use NEVER or SUCCESS,FAILURE,DELAY");
  if (!p.value || p.value->empty()) return usage;
  std::string_view list = *p.value;
  uint8_t bits = 0;
  while (true) {
    const size_t comma = list.find(',');
    const std::string_view word = list.substr(0, comma);
    uint8_t bit = 0;
    if (EqualsIgnoreCase(word, "NEVER")) {
      bit = spool::kNotifyNever;
    } else if (EqualsIgnoreCase(word, "SUCCESS")) {
      bit = spool::kNotifySuccess;
    } else if (EqualsIgnoreCase(word, "FAILURE")) {
      bit = spool::kNotifyFailure;
    } else if (EqualsIgnoreCase(word, "DELAY")) {
      bit = spool::kNotifyDelay;
    } else {
      return usage;
    }
    if (bits & bit) return BadParam("Bad NOTIFY parameter: " + std::string(word) + " given twice");
    bits |= bit;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if ((bits & spool::kNotifyNever) && bits != spool::kNotifyNever) {
    return BadParam("Bad NOTIFY parameter: NEVER cannot be combined with other values");
  }
  dsn->notify = bits;
  return std::nullopt;
}

// ORCPT=addr-type;xtext (RFC 3461 §4.2), kept as sent.
std::optional<Reply> ParseOrcpt(const Param& p, RcptDsn* dsn) {
  if (!dsn->orcpt.empty()) return BadParam("Duplicate ORCPT parameter");
  const std::string_view value = p.value.value_or(std::string_view());
  const size_t semi = value.find(';');
  if (semi == std::string_view::npos) {
    return BadParam("Bad ORCPT parameter: use ORCPT=addr-type;address");
  }
  if (value.size() > kMaxOrcptLength) {
    return BadParam("Bad ORCPT parameter: longer than " + std::to_string(kMaxOrcptLength) +
                    " characters");
  }
  if (!IsAtom(value.substr(0, semi))) {
    return BadParam("Bad ORCPT parameter: address type is not an atom");
  }
  const std::optional<size_t> length = PrintableXtextLength(value.substr(semi + 1));
  if (!length) return BadParam("Bad ORCPT parameter: address is not xtext of printable ASCII");
  if (*length == 0) return BadParam("Bad ORCPT parameter: empty address");
  dsn->orcpt = std::string(value);
  return std::nullopt;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

std::string_view BodyTypeName(BodyType type) {
  switch (type) {
    case BodyType::k7Bit:
      return "7BIT";
    case BodyType::k8BitMime:
      return "8BITMIME";
    case BodyType::kBinaryMime:
      return "BINARYMIME";
  }
  return "7BIT";
}

Command ParseCommandLine(std::string_view line) {
  static constexpr std::pair<std::string_view, Verb> kVerbs[] = {
      {"HELO", Verb::kHelo},         {"EHLO", Verb::kEhlo}, {"MAIL", Verb::kMail},
      {"RCPT", Verb::kRcpt},         {"DATA", Verb::kData}, {"BDAT", Verb::kBdat},
      {"RSET", Verb::kRset},         {"NOOP", Verb::kNoop}, {"QUIT", Verb::kQuit},
      {"VRFY", Verb::kVrfy},         {"EXPN", Verb::kExpn}, {"HELP", Verb::kHelp},
      {"STARTTLS", Verb::kStartTls}, {"AUTH", Verb::kAuth},
  };
  Command cmd;
  const size_t sp = line.find(' ');
  cmd.verb_text = line.substr(0, sp);
  if (sp != std::string_view::npos) {
    cmd.args = line.substr(sp + 1);
    while (!cmd.args.empty() && (cmd.args.back() == ' ' || cmd.args.back() == '\t')) {
      cmd.args.remove_suffix(1);
    }
  }
  for (const auto& [name, verb] : kVerbs) {
    if (EqualsIgnoreCase(cmd.verb_text, name)) {
      cmd.verb = verb;
      break;
    }
  }
  return cmd;
}

Parsed<MailCommand> ParseMailArgs(std::string_view args, const ParseOptions& options) {
  MailCommand mail;
  PathOptions path_options;
  path_options.allow_null = true;  // refused below with its own reply
  path_options.allow_ip_literal = options.allow_ip_literal;
  // SMTPUTF8 may follow the path, so look for it before judging the address.
  bool wants_utf8 = false;
  if (options.smtputf8) {
    for (size_t pos = 0; (pos = args.find(' ', pos)) != std::string_view::npos; ++pos) {
      const std::string_view tail = args.substr(pos + 1);
      if (StartsWithIgnoreCase(tail, "SMTPUTF8") && (tail.size() == 8 || tail[8] == ' ')) {
        wants_utf8 = true;
      }
    }
  }
  path_options.allow_utf8 = wants_utf8;
  Parsed<std::string_view> params =
      SplitPathAndParams(args, "FROM:", path_options, true, &mail.sender);
  if (!params.ok()) return params.error();
  if (mail.sender.empty() && !options.allow_null_sender) {
    return Reply{550, "5.7.1", "Null sender is not allowed"};
  }
  bool seen_size = false, seen_body = false, seen_utf8 = false, seen_auth = false;
  bool seen_envid = false;
  std::optional<Reply> error =
      ForEachParam(params.value(), [&](const Param& p) -> std::optional<Reply> {
        if (EqualsIgnoreCase(p.key, "SIZE") && options.size) {
          uint64_t size = 0;
          if (seen_size || !p.value || !ParseDecimal(*p.value, &size)) {
            return Reply{501, "5.5.4", "Bad SIZE parameter"};
          }
          seen_size = true;
          mail.size = size;
        } else if (EqualsIgnoreCase(p.key, "BODY") &&
                   (options.eightbitmime || options.binarymime)) {
          if (seen_body || !p.value) return Reply{501, "5.5.4", "Bad BODY parameter"};
          seen_body = true;
          if (EqualsIgnoreCase(*p.value, "7BIT")) {
            mail.body = BodyType::k7Bit;
          } else if (EqualsIgnoreCase(*p.value, "8BITMIME") && options.eightbitmime) {
            mail.body = BodyType::k8BitMime;
          } else if (EqualsIgnoreCase(*p.value, "BINARYMIME") && options.binarymime) {
            mail.body = BodyType::kBinaryMime;
          } else {
            return Reply{501, "5.5.4", "Unsupported BODY type " + std::string(*p.value)};
          }
        } else if (EqualsIgnoreCase(p.key, "SMTPUTF8") && options.smtputf8) {
          if (seen_utf8 || p.value) return Reply{501, "5.5.4", "Bad SMTPUTF8 parameter"};
          seen_utf8 = true;
          mail.smtputf8 = true;
        } else if (EqualsIgnoreCase(p.key, "AUTH") && options.auth) {
          if (seen_auth || !p.value || p.value->empty() ||
              (*p.value != "<>" && !IsXtext(*p.value))) {
            return Reply{501, "5.5.4", "Bad AUTH parameter"};
          }
          seen_auth = true;
          mail.auth = std::string(*p.value);
        } else if (EqualsIgnoreCase(p.key, "RET") && options.dsn) {
          return ParseRet(p, &mail);
        } else if (EqualsIgnoreCase(p.key, "ENVID") && options.dsn) {
          return ParseEnvid(p, &seen_envid, &mail);
        } else {
          return UnknownParam(p.key);
        }
        return std::nullopt;
      });
  if (error) return *error;
  return mail;
}

Parsed<RcptCommand> ParseRcptArgs(std::string_view args, const ParseOptions& options) {
  RcptCommand rcpt;
  PathOptions path_options;
  path_options.allow_postmaster = true;
  path_options.allow_utf8 = options.transaction_smtputf8;
  path_options.allow_ip_literal = options.allow_ip_literal;
  Parsed<std::string_view> params =
      SplitPathAndParams(args, "TO:", path_options, false, &rcpt.recipient);
  if (!params.ok()) return params.error();
  // The only RCPT parameters are DSN's (RFC 3461).
  std::optional<Reply> error =
      ForEachParam(params.value(), [&](const Param& p) -> std::optional<Reply> {
        if (EqualsIgnoreCase(p.key, "NOTIFY") && options.dsn) return ParseNotify(p, &rcpt.dsn);
        if (EqualsIgnoreCase(p.key, "ORCPT") && options.dsn) return ParseOrcpt(p, &rcpt.dsn);
        return UnknownParam(p.key);
      });
  if (error) return *error;
  return rcpt;
}

Parsed<BdatCommand> ParseBdatArgs(std::string_view args) {
  BdatCommand bdat;
  const size_t sp = args.find(' ');
  if (!ParseDecimal(args.substr(0, sp), &bdat.size)) {
    return SyntaxError("Syntax: BDAT <size> [LAST]");
  }
  if (sp != std::string_view::npos) {
    if (!EqualsIgnoreCase(TrimBlanks(args.substr(sp)), "LAST")) {
      return SyntaxError("Syntax: BDAT <size> [LAST]");
    }
    bdat.last = true;
  }
  return bdat;
}

Parsed<AuthCommand> ParseAuthArgs(std::string_view args) {
  AuthCommand auth;
  const size_t sp = args.find(' ');
  const std::string_view mech = args.substr(0, sp);
  if (mech.empty()) return SyntaxError("Syntax: AUTH <mechanism> [initial-response]");
  for (char c : mech) auth.mechanism.push_back(c >= 'a' && c <= 'z' ? c - 32 : c);
  if (sp != std::string_view::npos) {
    const std::string_view initial = TrimBlanks(args.substr(sp));
    if (initial.empty() || initial.find(' ') != std::string_view::npos) {
      return SyntaxError("Syntax: AUTH <mechanism> [initial-response]");
    }
    auth.initial_response = initial;
  }
  return auth;
}

}  // namespace ec::smtp
