#include "tests/unit/eccluster/channel_test_util.h"

#include <unistd.h>

#include <atomic>

#include "msgc/curve_keys.h"

namespace ec::eccluster::testing {

LoopThread::LoopThread() : base_(event::EventBase::Create().value()) {
  thread_ = std::thread([this] { (void)base_->Run(); });
}

LoopThread::~LoopThread() {
  base_->Stop();
  thread_.join();
}

void LoopThread::Run(const std::function<void()>& fn) {
  std::promise<void> done;
  base_->RunInLoop([&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

KeyDir::KeyDir(const std::vector<std::string>& registered,
               const std::vector<std::string>& unregistered) {
  static std::atomic<int> n{0};
  dir_ = std::filesystem::temp_directory_path() /
         ("ectest_eccluster." + std::to_string(::getpid()) + "." + std::to_string(n++));
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_ / "msgc_keys");
  for (const std::string& name : registered) {
    (void)msgc::LoadOrCreateKeyPair(SecretKeyFile(name), PublicKeyDir() + "/" + name + ".pub")
        .value();
  }
  for (const std::string& name : unregistered) {
    (void)msgc::LoadOrCreateKeyPair(SecretKeyFile(name), "").value();
  }
}

KeyDir::~KeyDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string KeyDir::SecretKeyFile(const std::string& name) const {
  return (dir_ / (name + ".key")).string();
}

msgc::CurveOptions KeyDir::Curve(const std::string& name) const {
  return {.secret_key_file = SecretKeyFile(name), .public_key_dir = PublicKeyDir()};
}

}  // namespace ec::eccluster::testing
