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
      // Connected means answered: a ZeroMQ connect succeeds whether or not anyone listens.
      std::lock_guard<std::mutex> lock(stats_mu_);
      stats_.connected = true;
    }
    {
      std::lock_guard<std::mutex> lock(stats_mu_);
      stats_.connected = false;
      if (!st.ok()) stats_.errors++;
    }
    if (stop_) break;
    if (!st.ok() && options_.on_error) {
      options_.on_error(options_.name.node + " " + options_.name.log + ": " + st.ToString());
    }
    Sleep(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(10));
  }
}

Status NodeLogPuller::Round(eccluster::ChannelClient& client) {
  std::string command = "journal read " + options_.name.log + " " + options_.subscriber + " " +
                        std::to_string(options_.batch_records) + " " +
                        std::to_string(options_.wait.count());
  EC_ASSIGN_OR_RETURN(control::Response response,
                      client.Send(command, options_.wait + std::chrono::seconds(10)));
  if (!response.ok) return FailedPrecondition("journal read: " + response.text);
  EC_ASSIGN_OR_RETURN(std::vector<eccluster::ShippedRecord> records,
                      eccluster::DecodeBatch(response.text));
  if (records.empty()) return Status::Ok();
  EC_RETURN_IF_ERROR(WriteLines(records));
  std::string ack = "journal ack " + options_.name.log + " " + options_.subscriber + " " +
                    std::to_string(state_.next.segment) + " " + std::to_string(state_.next.offset);
  EC_ASSIGN_OR_RETURN(control::Response acked, client.Send(ack, std::chrono::seconds(10)));
  if (!acked.ok) return FailedPrecondition("journal ack: " + acked.text);
  return Status::Ok();
}

Status NodeLogPuller::WriteLines(const std::vector<eccluster::ShippedRecord>& records) {
  std::string data;
  std::vector<std::string_view> fresh;
  for (const eccluster::ShippedRecord& r : records) {
    if (r.position < state_.next) continue;  // already ours: sent again after a crash
    data += r.payload;
    data += '\n';
    fresh.push_back(r.payload);
  }
  if (!data.empty()) {
    EC_ASSIGN_OR_RETURN(std::string file,
                        ExpandLogfilePattern(options_.pattern, options_.name, std::time(nullptr)));
    std::string path = options_.log_root + "/" + file;
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec) return ErrnoStatus("creating the directory of " + path, ec.value());
    daemon::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
    if (!fd.valid()) return ErrnoStatus("opening " + path, errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat " + path, errno);
    if (file != state_.file) {
      // A new file (first run, or a new day): record it before writing, so Repair knows which
      // file to cut back if we die between the write and the state update below.
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
    for (std::string_view line : fresh) options_.on_line(options_.name, line);
  }
  return Status::Ok();
}

}  // namespace ec::logcollect
