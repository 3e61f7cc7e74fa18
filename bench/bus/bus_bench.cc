// ec_bus_bench: benchmark driver for the cluster bus.
//   ec_bus_bench peer --self n0 --peers n0=127.0.0.2,n1=127.0.0.3 --port 24809
//     runs one bus node with the default timers (or --heartbeat-ms/--dead-ms) and prints one line
//     per membership change: "EVENT <CLOCK_MONOTONIC ns> alive|dead <peer> <reason>".
//   ec_bus_bench throughput --receivers 1 --messages 200000 --size 100 --port 24809
//     one sender and N receivers in this process (one loop); with 1 receiver it WHISPERs, with
//     more it SHOUTs to a group; prints messages/s delivered to every receiver.
#include <event2/event.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "msgc/bus.h"

namespace po = boost::program_options;
using ec::msgc::Bus;
using ec::msgc::BusOptions;
using ec::msgc::Clock;

namespace {

struct EventBaseDeleter {
  void operator()(event_base* b) const { event_base_free(b); }
};

int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

int RunPeer(const po::variables_map& vm) {
  BusOptions options;
  options.self = vm["self"].as<std::string>();
  std::stringstream peers(vm["peers"].as<std::string>());
  std::string item;
  while (std::getline(peers, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      std::cerr << "bad --peers entry `" << item << "` (want name=address)\n";
      return 2;
    }
    options.peers[item.substr(0, eq)] = item.substr(eq + 1);
  }
  options.port = static_cast<uint16_t>(vm["port"].as<int>());
  if (vm.count("heartbeat-ms")) {
    options.heartbeat_interval = std::chrono::milliseconds(vm["heartbeat-ms"].as<int>());
  }
  if (vm.count("dead-ms"))
    options.dead_timeout = std::chrono::milliseconds(vm["dead-ms"].as<int>());
  options.log = [](std::string_view line) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
  };
  std::unique_ptr<event_base, EventBaseDeleter> base(event_base_new());
  auto bus = Bus::Create(base.get(), options);
  if (!bus.ok()) {
    std::cerr << bus.status().ToString() << "\n";
    return 1;
  }
  (*bus)->SetMembershipHandler([](const ec::msgc::MembershipEvent& e, const ec::msgc::View&) {
    using Kind = ec::msgc::MembershipEvent::Kind;
    if (e.kind != Kind::kAlive && e.kind != Kind::kDead) return;
    std::printf("EVENT %lld %s %s %s\n", static_cast<long long>(MonotonicNs()),
                std::string(ec::msgc::EventKindName(e.kind)).c_str(), e.peer.c_str(),
                e.reason.empty() ? "-" : e.reason.c_str());
    std::fflush(stdout);
  });
  event_base_dispatch(base.get());
  return 0;
}

int RunThroughput(const po::variables_map& vm) {
  const int receivers = vm["receivers"].as<int>();
  const int64_t messages = vm["messages"].as<int64_t>();
  const size_t size = static_cast<size_t>(vm["size"].as<int>());
  const int port = vm["port"].as<int>();
  const int64_t window = 5000;  // frames in flight, below the send high-water mark
  std::unique_ptr<event_base, EventBaseDeleter> base(event_base_new());
  std::vector<std::unique_ptr<Bus>> buses;
  std::vector<int64_t> received(receivers + 1, 0);
  for (int i = 0; i <= receivers; ++i) {
    BusOptions options;
    options.self = "n" + std::to_string(i);
    for (int j = 0; j <= receivers; ++j) {
      options.peers["n" + std::to_string(j)] = "127.0.0." + std::to_string(2 + j);
    }
    options.port = static_cast<uint16_t>(port);
    options.log = [](std::string_view) {};
    auto bus = Bus::Create(base.get(), options);
    if (!bus.ok()) {
      std::cerr << bus.status().ToString() << "\n";
      return 1;
    }
    buses.push_back(std::move(bus).value());
    if (i > 0) {
      (void)buses.back()->Join("bench");
      buses.back()->SetHandler("bench",
                               [&received, i](const ec::msgc::Message&) { ++received[i]; });
    }
  }
  auto ready = [&] {
    for (int i = 1; i <= receivers; ++i) {
      const auto* m = buses[0]->view().Find("n" + std::to_string(i));
      if (m->state != ec::msgc::PeerState::kAlive || !m->groups.count("bench")) return false;
      if (!buses[i]->IsAlive("n0")) return false;
    }
    return true;
  };
  const auto setup_deadline = Clock::now() + std::chrono::seconds(20);
  while (!ready() && Clock::now() < setup_deadline) event_base_loop(base.get(), EVLOOP_ONCE);
  if (!ready()) {
    std::cerr << "bus did not converge\n";
    return 1;
  }
  auto min_received = [&] {
    int64_t m = messages;
    for (int i = 1; i <= receivers; ++i) m = std::min(m, received[i]);
    return m;
  };
  const std::string payload(size, 'x');
  int64_t sent = 0;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(120);
  while (min_received() < messages && Clock::now() < deadline) {
    while (sent < messages && sent - min_received() < window) {
      if (receivers == 1) {
        if (!buses[0]->Whisper("n1", "bench", payload).ok()) break;
      } else {
        (void)buses[0]->Shout("bench", payload);
      }
      ++sent;
    }
    event_base_loop(base.get(), EVLOOP_NONBLOCK);
    if (sent - min_received() >= window || sent == messages) {
      event_base_loop(base.get(), EVLOOP_ONCE);  // wait for progress (heartbeat timer bounds it)
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const int64_t delivered = min_received();
  std::printf(
      "throughput receivers=%d mode=%s size=%zu sent=%lld delivered_to_all=%lld drops=%llu "
      "seconds=%.3f msgs_per_s=%.0f deliveries_per_s=%.0f\n",
      receivers, receivers == 1 ? "whisper" : "shout", size, static_cast<long long>(sent),
      static_cast<long long>(delivered),
      static_cast<unsigned long long>(buses[0]->stats().send_dropped), seconds, delivered / seconds,
      delivered * receivers / seconds);
  return delivered == messages ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description desc("ec_bus_bench <peer|throughput> [options]");
  desc.add_options()("help", "show this help")(
      "mode", po::value<std::string>(), "peer or throughput")("self", po::value<std::string>(),
                                                              "peer: this node's name")(
      "peers", po::value<std::string>(), "peer: name=address,... (self included)")(
      "port", po::value<int>()->default_value(24809), "bus port on every address")(
      "heartbeat-ms", po::value<int>(), "peer: heartbeat interval (default: the bus default)")(
      "dead-ms", po::value<int>(), "peer: dead timeout (default: the bus default)")(
      "receivers", po::value<int>()->default_value(1), "throughput: receiving peers (1..20)")(
      "messages", po::value<int64_t>()->default_value(200000), "throughput: messages to send")(
      "size", po::value<int>()->default_value(100), "throughput: payload bytes");
  po::positional_options_description positional;
  positional.add("mode", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << e.what() << "\n" << desc;
    return 2;
  }
  const std::string mode = vm.count("mode") ? vm["mode"].as<std::string>() : "";
  if (vm.count("help") || mode.empty()) {
    std::cout << desc;
    return mode.empty() && !vm.count("help") ? 2 : 0;
  }
  if (mode == "peer" && vm.count("self") && vm.count("peers")) return RunPeer(vm);
  if (mode == "throughput" && vm["receivers"].as<int>() >= 1 && vm["receivers"].as<int>() <= 20) {
    return RunThroughput(vm);
  }
  std::cerr << desc;
  return 2;
}
