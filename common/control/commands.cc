#include "common/control/commands.h"

#include <algorithm>
#include <cctype>

namespace ec::control {
namespace {

std::string Lower(std::string_view word) {
  std::string out(word);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ValidWord(std::string_view word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

}  // namespace

Reply::Reply(Sink sink) : state_(std::make_shared<State>(std::move(sink))) {}

void Reply::Send(Response response) const {
  if (state_->answered.exchange(true)) return;
  state_->sink(std::move(response));
}

Reply::State::~State() {
  if (!answered.load()) sink(Response{false, "internal error: the command produced no reply"});
}

Status CommandRegistry::Register(std::string_view phrase, std::string help, Handler handler) {
  std::vector<std::string_view> words = SplitWords(phrase);
  if (words.empty()) return InvalidArgument("empty command phrase");
  std::string key;
  for (std::string_view word : words) {
    std::string lower = Lower(word);
    if (!ValidWord(lower)) {
      return InvalidArgument("bad word \"" + std::string(word) + "\" in command phrase");
    }
    if (!key.empty()) key.push_back(' ');
    key += lower;
  }
  if (commands_.count(key)) {
    return Status(StatusCode::kAlreadyExists, "command \"" + key + "\" is already registered");
  }
  commands_.emplace(key, Entry{std::move(help), std::move(handler)});
  max_words_ = std::max(max_words_, words.size());
  return Status::Ok();
}

Status CommandRegistry::RegisterSync(std::string_view phrase, std::string help,
                                     SyncHandler handler) {
  return Register(phrase, std::move(help),
                  [handler = std::move(handler)](const Request& request, Reply reply) {
                    Result<std::string> result = handler(request);
                    if (result.ok()) {
                      reply.Ok(std::move(result).value());
                    } else {
                      reply.Error(result.status().message());
                    }
                  });
}

std::optional<CommandRegistry::Match> CommandRegistry::Find(std::string_view line) const {
  std::vector<std::string_view> words = SplitWords(line);
  for (size_t n = std::min(words.size(), max_words_); n > 0; --n) {
    std::string key;
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) key.push_back(' ');
      key += Lower(words[i]);
    }
    auto it = commands_.find(key);
    if (it == commands_.end()) continue;
    Match match{&it->second.handler, Request{}};
    match.request.line = std::string(line);
    match.request.command = key;
    for (size_t i = n; i < words.size(); ++i) match.request.arg_words.emplace_back(words[i]);
    if (n < words.size()) {
      // From the first argument word to the last, as typed.
      const char* begin = words[n].data();
      const char* end = words.back().data() + words.back().size();
      match.request.args.assign(begin, end);
    }
    return match;
  }
  return std::nullopt;
}

std::string CommandRegistry::HelpText() const {
  size_t width = 0;
  for (const auto& [phrase, entry] : commands_) width = std::max(width, phrase.size());
  std::string out;
  for (const auto& [phrase, entry] : commands_) {
    out += "  " + phrase + std::string(width - phrase.size() + 2, ' ') + entry.help + "\n";
  }
  return out;
}

}  // namespace ec::control
