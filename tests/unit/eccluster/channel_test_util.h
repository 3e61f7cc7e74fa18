// Test helpers for the ECCluster channel: a libevent loop on a thread of its own (the node's
// loop), and a directory of real CURVE key pairs laid out as a cluster keeps them
// (<dir>/<name>.key secret, <dir>/msgc_keys/<name>.pub public). Test code only.
#pragma once

#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/event/event_base.h"
#include "msgc/bus_options.h"

namespace ec::eccluster::testing {

class LoopThread {
 public:
  LoopThread();
  ~LoopThread();
  event::EventBase& base() { return *base_; }
  // Runs `fn` on the loop thread and waits for it.
  void Run(const std::function<void()>& fn);
  template <typename T>
  T Get(const std::function<T()>& fn) {
    T out{};
    Run([&] { out = fn(); });
    return out;
  }

 private:
  std::unique_ptr<event::EventBase> base_;
  std::thread thread_;
};

class KeyDir {
 public:
  // A fresh directory under the system temp dir, removed by the destructor. `registered` get a
  // committed public key; `unregistered` only a key pair.
  KeyDir(const std::vector<std::string>& registered,
         const std::vector<std::string>& unregistered = {});
  ~KeyDir();
  const std::filesystem::path& dir() const { return dir_; }
  std::string SecretKeyFile(const std::string& name) const;
  std::string PublicKeyDir() const { return (dir_ / "msgc_keys").string(); }
  // The CurveOptions `name` runs with.
  msgc::CurveOptions Curve(const std::string& name) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace ec::eccluster::testing
