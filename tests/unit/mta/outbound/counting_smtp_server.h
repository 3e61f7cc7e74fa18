// A small SMTP server on 127.0.0.1 for scheduler tests: any number of connections at once (a
// thread each), every message accepted, optionally after a delay before the final DATA reply
// (to hold connections open). It counts connections, the peak held at once, messages per
// connection and the steady-clock time each message was accepted.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/base/check.h"

namespace ec::outbound::testing {

class CountingSmtpServer {
 public:
  explicit CountingSmtpServer(std::chrono::milliseconds data_delay = {}) : delay_(data_delay) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EC_CHECK(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    EC_CHECK(::listen(fd_, 64) == 0);
    socklen_t len = sizeof a;
    EC_CHECK(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~CountingSmtpServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard<std::mutex> l(mu_);
      for (int c : conns_) ::shutdown(c, SHUT_RDWR);
    }
    for (std::thread& t : threads_) t.join();
    for (int c : conns_) ::close(c);
    ::close(fd_);
  }
  uint16_t port() const { return port_; }

  size_t connections() const { return connections_; }
  size_t peak() const { return peak_; }
  size_t current() const { return current_; }
  size_t messages() const { return messages_; }
  size_t quits() const { return quits_; }
  // Messages carried by each connection that has closed, in closing order.
  std::vector<size_t> per_connection() {
    std::lock_guard<std::mutex> l(mu_);
    return per_connection_;
  }
  std::vector<std::chrono::steady_clock::time_point> accepted_at() {
    std::lock_guard<std::mutex> l(mu_);
    return accepted_at_;
  }

 private:
  void Accept() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::lock_guard<std::mutex> l(mu_);
      conns_.push_back(c);
      threads_.emplace_back([this, c] { Serve(c); });
    }
  }
  static void Send(int c, const std::string& s) {
    (void)::send(c, s.data(), s.size(), MSG_NOSIGNAL);
  }
  void Serve(int c) {
    connections_++;
    size_t now = ++current_;
    for (size_t p = peak_; now > p && !peak_.compare_exchange_weak(p, now);) {
    }
    size_t carried = 0;
    Send(c, "220 counting.test ESMTP\r\n");
    std::string buf;
    bool in_data = false;
    char chunk[4096];
    while (!stop_) {
      ssize_t n = ::recv(c, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      size_t eol;
      bool quit = false;
      while (!quit && (eol = buf.find("\r\n")) != std::string::npos) {
        std::string line = buf.substr(0, eol);
        buf.erase(0, eol + 2);
        if (in_data) {
          if (line != ".") continue;
          in_data = false;
          if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
          {
            std::lock_guard<std::mutex> l(mu_);
            accepted_at_.push_back(std::chrono::steady_clock::now());
          }
          ++carried;
          messages_++;
          Send(c, "250 2.0.0 queued\r\n");
          continue;
        }
        const std::string verb = line.substr(0, 4);
        if (verb == "EHLO") {
          Send(c, "250-counting.test\r\n250 8BITMIME\r\n");
        } else if (verb == "DATA") {
          in_data = true;
          Send(c, "354 go ahead\r\n");
        } else if (verb == "QUIT") {
          quits_++;
          Send(c, "221 bye\r\n");
          quit = true;
        } else {
          Send(c, "250 ok\r\n");
        }
      }
      if (quit) break;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      per_connection_.push_back(carried);
    }
    current_--;
    ::shutdown(c, SHUT_RDWR);
  }

  std::chrono::milliseconds delay_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> connections_{0}, current_{0}, peak_{0}, messages_{0}, quits_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> threads_;
  std::vector<size_t> per_connection_;
  std::vector<std::chrono::steady_clock::time_point> accepted_at_;
};

}  // namespace ec::outbound::testing
