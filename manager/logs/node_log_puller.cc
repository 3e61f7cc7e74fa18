#include "manager/logs/node_log_puller.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/base/atomic_file.h"
#include "common/daemon/unique_fd.h"

namespace ec::logcollect {
namespace fs = std::filesystem;
namespace {

// The node's words for a subscriber its journal does not have (mta/journal: "no journal
// subscriber <name>"): try the next candidate rather than retry this one.
bool IsUnknownSubscriber(std::string_view error) {
  return error.find("no journal subscriber ") != std::string_view::npos;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(none)" : out;
}

}  // namespace

Result<PullerState> LoadPullerState(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("no state file " + path);
  std::string version;
  PullerState s;
  in >> version >> s.next.segment >> s.next.offset >> s.size;
  in.get();  // the space before the file name, which may hold spaces of its own
  std::getline(in, s.file);
  if (!in || version != "v1" || s.file.empty() || s.file.find("..") != std::string::npos) {
    return InvalidArgument("state file " + path + " is damaged");
  }
  return s;
}

std::string EncodePullerState(const PullerState& s) {
  return "v1 " + std::to_string(s.next.segment) + " " + std::to_string(s.next.offset) + " " +
         std::to_string(s.size) + " " + s.file + "\n";
}

NodeLogPuller::NodeLogPuller(PullerOptions options) : options_(std::move(options)) {}

NodeLogPuller::~NodeLogPuller() { Stop(); }

Status NodeLogPuller::Repair() {
  auto loaded = LoadPullerState(options_.state_path);
  if (!loaded.ok()) {
    if (loaded.status().code() == StatusCode::kNotFound) return Status::Ok();  // first run
    return loaded.status();
  }
  state_ = *loaded;
  std::string path = options_.log_root + "/" + state_.file;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (state_.size == 0) return Status::Ok();
    return FailedPrecondition(path + " is missing but the state file says it held " +
                              std::to_string(state_.size) + " bytes");
  }
  if (static_cast<uint64_t>(st.st_size) > state_.size) {
    // Lines written but not yet recorded when we stopped: the node still has them unacked and
    // sends them again.
    if (::truncate(path.c_str(), static_cast<off_t>(state_.size)) != 0) {
      return ErrnoStatus("truncating " + path, errno);
    }
  } else if (static_cast<uint64_t>(st.st_size) < state_.size) {
    return FailedPrecondition(path +
                              " is shorter than the state file says: lines were lost "
                              "on the manager's disk");
  }
  return Status::Ok();
}

Status NodeLogPuller::Start() {
  EC_RETURN_IF_ERROR(CheckPathName("node", options_.name.node));
  EC_RETURN_IF_ERROR(CheckPathName("log", options_.name.log));
  std::error_code ec;
  fs::create_directories(fs::path(options_.state_path).parent_path(), ec);
  if (ec) return ErrnoStatus("creating the directory of " + options_.state_path, ec.value());
  EC_RETURN_IF_ERROR(Repair());
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void NodeLogPuller::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

PullerStats NodeLogPuller::stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

void NodeLogPuller::Sleep(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [this] { return stop_.load(); });
}

void NodeLogPuller::Run() {
  auto backoff = options_.retry;
  std::string last_error;  // of the current streak, reported once
  while (!stop_) {
    // Options anew each time: a public key committed since the last attempt is picked up.
    auto channel = eccluster::ClientOptionsFor(options_.curve, options_.self, options_.name.node,
                                               options_.endpoint);
    std::unique_ptr<eccluster::ChannelClient> client;
    Status st = channel.status();
    if (st.ok()) {
      channel->context = options_.context;
      auto created = eccluster::ChannelClient::Create(std::move(*channel));
      st = created.ok() ? Status::Ok() : created.status();
      if (created.ok()) client = std::move(*created);
    }
    while (st.ok() && !stop_) {
      st = Round(*client);
      if (!st.ok()) break;
      backoff = options_.retry;
      if (!last_error.empty() && options_.on_error) {
        options_.on_error(options_.name.node + " " + options_.name.log + ": recovered");
      }
      last_error.clear();
      // Connected means answered: a ZeroMQ connect succeeds whether or not anyone listens.
      std::lock_guard<std::mutex> lock(stats_mu_);
      stats_.connected = true;
      stats_.subscriber = options_.subscribers[candidate_];
    }
    {
      std::lock_guard<std::mutex> lock(stats_mu_);
      stats_.connected = false;
      if (!st.ok()) stats_.errors++;
    }
    if (stop_) break;
    if (!st.ok() && options_.on_error && st.ToString() != last_error) {
      last_error = st.ToString();
      options_.on_error(options_.name.node + " " + options_.name.log + ": " + last_error);
    }
    Sleep(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(10));
  }
}

Status NodeLogPuller::Round(eccluster::ChannelClient& client) {
  if (options_.subscribers.empty()) return FailedPrecondition("no journal subscriber to read");
  if (candidate_ >= options_.subscribers.size()) candidate_ = 0;
  const std::string& subscriber = options_.subscribers[candidate_];
  std::string command = "journal read " + options_.name.log + " " + subscriber + " " +
                        std::to_string(options_.batch_records) + " " +
                        std::to_string(options_.wait.count());
  EC_ASSIGN_OR_RETURN(control::Response response,
                      client.Send(command, options_.wait + std::chrono::seconds(10)));
  if (!response.ok && IsUnknownSubscriber(response.text)) {
    // Momentum's order: our own name, then "master": the next one, at once.
    if (++candidate_ < options_.subscribers.size()) return Status::Ok();
    candidate_ = 0;
    return FailedPrecondition("journal read: the node's " + options_.name.log +
                              " journal has none of the subscribers " +
                              JoinNames(options_.subscribers));
  }
  if (!response.ok) return FailedPrecondition("journal read: " + response.text);
  EC_ASSIGN_OR_RETURN(std::vector<eccluster::ShippedRecord> records,
                      eccluster::DecodeBatch(response.text));
  if (records.empty()) return Status::Ok();
  EC_RETURN_IF_ERROR(WriteLines(records));
  std::string ack = "journal ack " + options_.name.log + " " + subscriber + " " +
                    std::to_string(state_.next.segment) + " " + std::to_string(state_.next.offset);
  EC_ASSIGN_OR_RETURN(control::Response acked, client.Send(ack, std::chrono::seconds(10)));
  if (!acked.ok) return FailedPrecondition("journal ack: " + acked.text);
  return Status::Ok();
}

Status NodeLogPuller::WriteLines(const std::vector<eccluster::ShippedRecord>& records) {
  const std::time_t now = std::time(nullptr);
  std::vector<const eccluster::ShippedRecord*> fresh;
  std::vector<std::string> files;  // parallel to fresh
  for (const eccluster::ShippedRecord& r : records) {
    if (r.position < state_.next) continue;  // already ours: sent again after a crash
    EC_ASSIGN_OR_RETURN(std::string file, ExpandLogfilePattern(options_.pattern, options_.name,
                                                               LineTime(r.payload, now)));
    fresh.push_back(&r);
    files.push_back(std::move(file));
  }
  // Runs of consecutive lines bound for the same file, each written and recorded in turn, so
  // the state file always names the one file a crash could have left longer than recorded.
  for (size_t begin = 0; begin < fresh.size();) {
    size_t end = begin + 1;
    while (end < fresh.size() && files[end] == files[begin]) ++end;
    EC_RETURN_IF_ERROR(WriteRun({fresh.begin() + begin, fresh.begin() + end}, files[begin]));
    begin = end;
  }
  state_.next = std::max(state_.next, records.back().next);
  EC_RETURN_IF_ERROR(WriteFileAtomically(options_.state_path, EncodePullerState(state_)));
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.batches++;
    stats_.skipped += records.size() - fresh.size();
    stats_.lines += fresh.size();
  }
  if (options_.on_line) {
    for (const eccluster::ShippedRecord* r : fresh) options_.on_line(options_.name, r->payload);
  }
  return Status::Ok();
}

Status NodeLogPuller::WriteRun(const std::vector<const eccluster::ShippedRecord*>& run,
                               const std::string& file) {
  std::string data;
  for (const eccluster::ShippedRecord* r : run) {
    data += r->payload;
    data += '\n';
  }
  const std::string path = options_.log_root + "/" + file;
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return ErrnoStatus("creating the directory of " + path, ec.value());
  daemon::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fd.valid()) return ErrnoStatus("opening " + path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  if (file != state_.file) {
    // A new file (first run, a new day, a late line of an earlier day): record it before
    // writing, so Repair knows which file to cut back if we die between the write and the
    // state update below.
    EC_RETURN_IF_ERROR(SyncDirectoryOf(path));
    state_.file = file;
    state_.size = static_cast<uint64_t>(st.st_size);
    EC_RETURN_IF_ERROR(WriteFileAtomically(options_.state_path, EncodePullerState(state_)));
  }
  std::string_view rest = data;
  while (!rest.empty()) {
    ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("writing " + path, errno);
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (::fdatasync(fd.get()) != 0) return ErrnoStatus("syncing " + path, errno);
  state_.size = static_cast<uint64_t>(st.st_size) + data.size();
  state_.next = std::max(state_.next, run.back()->next);
  return WriteFileAtomically(options_.state_path, EncodePullerState(state_));
}

}  // namespace ec::logcollect
