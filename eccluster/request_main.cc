// eccluster_request: sends one command line over the ECCluster channel and prints the reply,
// for operators checking a node's listener and for tests of its authentication.
//   eccluster_request --endpoint 127.0.0.2:4802 --self manager --key etc/msgc.key
//                     --server-key global/msgc_keys/node1.pub [--timeout-ms 5000] journal read ...
// Without --key it uses the NULL mechanism (a node with curve = false). Exit status: 0 ok
// reply, 1 error reply, 2 no reply or bad usage.
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "eccluster/channel_client.h"
#include "msgc/curve_keys.h"

namespace {

int Usage(std::string_view why) {
  std::cerr
      << "eccluster_request: " << why
      << "\nusage: eccluster_request --endpoint host:port [--self name] [--key secret-key-file"
         " --server-key public-key-file] [--timeout-ms n] command words...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  ec::eccluster::ChannelClientOptions options;
  std::string server_key_file, line;
  long timeout_ms = 5000;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (arg == "--endpoint" && (v = value())) {
      options.endpoint = v;
    } else if (arg == "--self" && (v = value())) {
      options.self = v;
    } else if (arg == "--key" && (v = value())) {
      options.secret_key_file = v;
    } else if (arg == "--server-key" && (v = value())) {
      server_key_file = v;
    } else if (arg == "--timeout-ms" && (v = value())) {
      timeout_ms = std::strtol(v, nullptr, 10);
    } else if (arg.rfind("--", 0) == 0) {
      return Usage("unknown or incomplete option " + std::string(arg));
    } else {
      line += (line.empty() ? "" : " ") + std::string(arg);
    }
  }
  if (options.endpoint.empty() || line.empty()) return Usage("--endpoint and a command needed");
  if (options.secret_key_file.empty() != server_key_file.empty()) {
    return Usage("--key and --server-key go together");
  }
  if (!server_key_file.empty()) {
    auto key = ec::msgc::ReadPublicKeyFile(server_key_file);
    if (!key.ok()) return Usage(key.status().ToString());
    options.server_public_key = *key;
  }
  auto client = ec::eccluster::ChannelClient::Create(std::move(options));
  if (!client.ok()) return Usage(client.status().ToString());
  auto reply = (*client)->Send(line, std::chrono::milliseconds(timeout_ms));
  if (!reply.ok()) {
    std::cout << "noreply " << reply.status().ToString() << "\n";
    return 2;
  }
  std::cout << (reply->ok ? "ok\n" : "error\n") << reply->text;
  if (!reply->text.empty() && reply->text.back() != '\n') std::cout << "\n";
  return reply->ok ? 0 : 1;
}
