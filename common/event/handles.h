// Owners for libevent's C handles: each is a std::unique_ptr whose deleter calls the matching
// libevent free function. Whoever holds the pointer owns the handle; destroy it on the thread
// that runs its event_base.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <memory>

namespace ec::event {

struct EventBaseDeleter {
  void operator()(event_base* p) const { event_base_free(p); }
};
struct EventDeleter {
  void operator()(::event* p) const { event_free(p); }
};
struct BufferEventDeleter {
  void operator()(bufferevent* p) const { bufferevent_free(p); }
};
struct EvBufferDeleter {
  void operator()(evbuffer* p) const { evbuffer_free(p); }
};
struct ListenerDeleter {
  void operator()(evconnlistener* p) const { evconnlistener_free(p); }
};

using EventBasePtr = std::unique_ptr<event_base, EventBaseDeleter>;
using EventPtr = std::unique_ptr<::event, EventDeleter>;
using BufferEventPtr = std::unique_ptr<bufferevent, BufferEventDeleter>;
using EvBufferPtr = std::unique_ptr<evbuffer, EvBufferDeleter>;
using ListenerPtr = std::unique_ptr<evconnlistener, ListenerDeleter>;

}  // namespace ec::event
