#include "mta/logship/log_journals.h"

namespace ec::logship {
namespace {

constexpr std::string_view kSchemes[] = {"cluster://", "jlog://"};
constexpr const char* kLogOptions[] = {"mainlog", "rejectlog", "paniclog", "acctlog"};

std::vector<std::string> SplitCommas(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

Result<std::optional<JournalSpec>> ParseJournalUri(std::string_view log, std::string_view uri) {
  std::string_view rest;
  for (std::string_view scheme : kSchemes) {
    if (uri.substr(0, scheme.size()) == scheme) rest = uri.substr(scheme.size());
  }
  if (rest.empty()) return std::optional<JournalSpec>();
  JournalSpec spec{.log = std::string(log)};
  size_t query = rest.find('?');
  if (query != std::string_view::npos) {
    std::string_view q = rest.substr(query + 1);
    rest = rest.substr(0, query);
    if (q.substr(0, 12) != "subscribers=") {
      return InvalidArgument(std::string(log) + " \"" + std::string(uri) +
                             "\": the only query is ?subscribers=a,b");
    }
    spec.subscribers = SplitCommas(q.substr(12));
  }
  size_t arrow = rest.find("=>");
  if (arrow != std::string_view::npos) {
    spec.subscribers.insert(spec.subscribers.begin(), std::string(rest.substr(arrow + 2)));
    rest = rest.substr(0, arrow);
  }
  if (rest.empty() || rest.front() != '/') {
    return InvalidArgument(std::string(log) + " \"" + std::string(uri) +
                           "\": a journal needs an absolute path (cluster:///var/log/...)");
  }
  spec.dir = std::string(rest);
  for (const std::string& s : spec.subscribers) {
    EC_RETURN_IF_ERROR(journal::ValidateSubscriberName(s).WithContext(std::string(log)));
  }
  return std::optional<JournalSpec>(std::move(spec));
}

Result<std::vector<JournalSpec>> JournalSpecsFromConfig(const config::Config& config) {
  std::vector<JournalSpec> out;
  auto add = [&](const config::Scope* scope, const char* log) -> Status {
    const config::Option* o = scope->FindOption(log);
    if (o == nullptr || !o->value.is_scalar()) return Status::Ok();
    auto spec = ParseJournalUri(log, o->value.text());
    if (!spec.ok()) return spec.status().WithContext(o->location.ToString());
    if (!spec->has_value()) return Status::Ok();
    for (const JournalSpec& seen : out) {
      if (seen.log == log) {
        return InvalidArgument(o->location.ToString() + ": " + log +
                               " already goes to the journal " + seen.dir);
      }
    }
    out.push_back(std::move(**spec));
    return Status::Ok();
  };
  for (const config::Scope* logger : config.root.Children("ec_logger")) {
    for (const char* log : kLogOptions) EC_RETURN_IF_ERROR(add(logger, log));
  }
  for (const config::Scope* logger : config.root.Children("bounce_logger")) {
    EC_RETURN_IF_ERROR(add(logger, "bouncelog"));
  }
  return out;
}

Result<std::unique_ptr<LogJournals>> LogJournals::Open(const std::vector<JournalSpec>& specs,
                                                       uint64_t max_bytes) {
  std::unique_ptr<LogJournals> j(new LogJournals());
  for (const JournalSpec& spec : specs) {
    journal::JournalOptions o{.dir = spec.dir, .subscribers = spec.subscribers};
    if (max_bytes > 0) o.max_bytes = max_bytes;
    auto opened = journal::Journal::Open(std::move(o));
    if (!opened.ok()) return opened.status().WithContext(spec.log + " journal " + spec.dir);
    j->journals_[spec.log] = std::move(*opened);
  }
  return j;
}

Status LogJournals::Append(std::string_view log, std::string_view line) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = journals_.find(std::string(log));
  if (it == journals_.end()) return Status::Ok();
  return it->second->Append(line);
}

std::map<std::string, journal::Journal*> LogJournals::journals() const {
  std::map<std::string, journal::Journal*> out;
  for (const auto& [log, j] : journals_) out[log] = j.get();
  return out;
}

}  // namespace ec::logship
