#include "mta/logship/journal_service.h"

#include <charconv>
#include <sstream>

#include "common/log/logger.h"
#include "eccluster/batch.h"

namespace ec::logship {
namespace {

constexpr std::chrono::milliseconds kTick{50};
constexpr size_t kMaxRecordsPerRead = 10000;
constexpr int64_t kMaxWaitMs = 30000;

Result<uint64_t> Number(const std::string& word, const char* what) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
  if (ec != std::errc() || ptr != word.data() + word.size()) {
    return InvalidArgument(std::string(what) + ": expected a number, found \"" + word + "\"");
  }
  return v;
}

eccluster::JournalPosition ToWire(const journal::Position& p) { return {p.segment, p.offset}; }

}  // namespace

JournalService::JournalService(event::EventBase& base,
                               std::map<std::string, journal::Journal*> journals, std::mutex* mu)
    : journals_(std::move(journals)), mu_(mu), tick_(base, [this] { CheckPending(); }) {}

std::unique_lock<std::mutex> JournalService::Lock() const {
  return mu_ ? std::unique_lock<std::mutex>(*mu_) : std::unique_lock<std::mutex>();
}

JournalService::~JournalService() {
  for (PendingRead& p : pending_) p.reply.Error("shutting down");
}

void JournalService::RegisterCommands(control::CommandRegistry& commands) {
  (void)commands.Register("journal read",
                          "<log> <subscriber> <max> [<wait ms>]: records after the cursor",
                          [this](const control::Request& r, control::Reply reply) {
                            if (Status s = Authorize(r); !s.ok()) return reply.Error(s.message());
                            Read(r, std::move(reply));
                          });
  (void)commands.RegisterSync("journal ack",
                              "<log> <subscriber> <segment> <offset>: move the cursor durably",
                              [this](const control::Request& r) -> Result<std::string> {
                                EC_RETURN_IF_ERROR(Authorize(r));
                                return Ack(r);
                              });
  (void)commands.RegisterSync("cluster show logs", "each journal's size and subscribers",
                              [this](const control::Request& r) -> Result<std::string> {
                                EC_RETURN_IF_ERROR(Authorize(r));
                                return ShowLogs();
                              });
}

Status JournalService::Authorize(const control::Request& request) const {
  constexpr std::string_view kPrefix = "msgc:";
  const std::string& p = request.principal;
  if (p.rfind(kPrefix, 0) == 0 && managers_.count(p.substr(kPrefix.size()))) return Status::Ok();
  const std::string who = p.empty() ? "unauthenticated" : p;
  EC_LOG(kWarn, "eccluster request refused")
      .Field("principal", who)
      .Field("peer", request.peer)
      .Field("command", request.command)
      .Field("reason", "not a member in the manager role (cluster { control_peers })");
  return Status(StatusCode::kPermissionDenied,
                request.command + ": refused: " + who + " is not a manager of this node");
}

Result<journal::Journal*> JournalService::Find(const std::string& log) const {
  auto it = journals_.find(log);
  if (it == journals_.end()) return NotFound("no journal \"" + log + "\" on this node");
  return it->second;
}

void JournalService::Read(const control::Request& request, control::Reply reply) {
  const auto& w = request.arg_words;
  if (w.size() != 3 && w.size() != 4) {
    return reply.Error("usage: journal read <log> <subscriber> <max records> [<wait ms>]");
  }
  auto max = Number(w[2], "max records");
  auto wait = w.size() == 4 ? Number(w[3], "wait ms") : Result<uint64_t>(uint64_t{0});
  if (!max.ok()) return reply.Error(max.status().message());
  if (!wait.ok()) return reply.Error(wait.status().message());
  PendingRead p{.log = w[0],
                .subscriber = w[1],
                .max_records = std::clamp<size_t>(*max, 1, kMaxRecordsPerRead),
                .deadline = std::chrono::steady_clock::now() +
                            std::chrono::milliseconds(std::min<int64_t>(*wait, kMaxWaitMs)),
                .reply = std::move(reply)};
  if (TryAnswer(p, *wait == 0)) return;
  pending_.push_back(std::move(p));
  if (!tick_.IsPending()) tick_.StartRepeating(kTick);
}

bool JournalService::TryAnswer(PendingRead& p, bool final) {
  auto journal = Find(p.log);
  if (!journal.ok()) {
    p.reply.Error(journal.status().message());
    return true;
  }
  auto entries = [&] {
    auto lock = Lock();
    return (*journal)->Read(p.subscriber, p.max_records, eccluster::kMaxBatchBytes / 2);
  }();
  if (!entries.ok()) {
    p.reply.Error(entries.status().message());
    return true;
  }
  if (entries->empty() && !final) return false;
  std::vector<eccluster::ShippedRecord> records;
  records.reserve(entries->size());
  for (journal::Entry& e : *entries) {
    records.push_back({ToWire(e.position), ToWire(e.next), std::move(e.payload)});
  }
  p.reply.Ok(eccluster::EncodeBatch(records));
  return true;
}

void JournalService::CheckPending() {
  auto now = std::chrono::steady_clock::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = TryAnswer(*it, now >= it->deadline) ? pending_.erase(it) : std::next(it);
  }
  if (pending_.empty()) tick_.Stop();
}

Result<std::string> JournalService::Ack(const control::Request& request) {
  const auto& w = request.arg_words;
  if (w.size() != 4) {
    return InvalidArgument("usage: journal ack <log> <subscriber> <segment> <offset>");
  }
  EC_ASSIGN_OR_RETURN(journal::Journal * j, Find(w[0]));
  EC_ASSIGN_OR_RETURN(uint64_t segment, Number(w[2], "segment"));
  EC_ASSIGN_OR_RETURN(uint64_t offset, Number(w[3], "offset"));
  auto lock = Lock();
  EC_RETURN_IF_ERROR(j->Advance(w[1], journal::Position{segment, offset}));
  return std::string("advanced");
}

std::string JournalService::ShowLogs() const {
  std::ostringstream out;
  for (const auto& [name, j] : journals_) {
    journal::JournalStats s;
    {
      auto lock = Lock();
      s = j->Stats();
    }
    out << name << ": " << s.bytes << " bytes in " << s.segments << " segments, end "
        << s.end.segment << ":" << s.end.offset << ", " << s.records_appended
        << " lines since start, " << s.dropped_bytes << " bytes dropped (disk bound)\n";
    for (const journal::SubscriberStats& sub : s.subscribers) {
      out << "  =>" << sub.name << " at " << sub.position.segment << ":" << sub.position.offset
          << ", " << sub.pending_bytes << " bytes unread, " << sub.dropped_bytes
          << " bytes dropped unread\n";
    }
  }
  if (journals_.empty()) out << "no journals\n";
  return out.str();
}

}  // namespace ec::logship
