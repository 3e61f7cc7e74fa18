// SendFrames: one multipart message of strings on a ZeroMQ socket, without blocking; false
// when the socket would block. Throws zmq::error_t like cppzmq. Shared by the channel's client
// and server (and its tests). The socket's thread only.
#pragma once

#include <string>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

namespace ec::eccluster {

inline bool SendFrames(zmq::socket_t& socket, const std::vector<std::string>& frames) {
  std::vector<zmq::const_buffer> buffers;
  buffers.reserve(frames.size());
  for (const std::string& f : frames) buffers.push_back(zmq::buffer(f));
  return zmq::send_multipart(socket, buffers, zmq::send_flags::dontwait).has_value();
}

}  // namespace ec::eccluster
