// LoneWriterGauge: whether the spool's syncs serve one waiting client at a time, the case where
// zeros kept ahead of the records (ZeroAhead) pay. Zeros save each sync the file's metadata
// (0.18 -> 0.10 ms for a 4 KB append here), which a lone client waits for on every message; they
// cost CPU for every byte zeroed (53 us per 100 KB message, bench/relay/README.md). Once syncs
// carry several messages each, the sync is shared and the machine's CPU is the limit: zeroing
// then only takes CPU from the sessions (20 x 100 KB relayed 4-10 % faster without it). Syncs
// need not carry many messages for that: at 20 x 100 KB each carried about 1.3.
//
// Fed the number of messages in each synced batch; follows their moving average and says
// whether zeroing is wanted, with a gap between the two thresholds so a mixed load does not
// flip it on every batch. Pure; the committer thread owns it.
#pragma once

#include <cstddef>

namespace ec::spool {

class LoneWriterGauge {
 public:
  // Above kBusy messages per sync on average zeroing stops; below kLone it resumes.
  // A lone client's syncs carry exactly one message each (it waits for its 250); with 20
  // sessions relaying 100 KB here they carried about 1.3.
  static constexpr double kBusy = 1.2;
  static constexpr double kLone = 1.05;
  // Weight of each new batch in the average: about the last 16 batches count.
  static constexpr double kWeight = 1.0 / 16;

  // Notes a synced batch that held `messages` messages (batches of delivery records alone, with
  // no message, are not noted). Returns whether zeros ahead are wanted now.
  bool Note(size_t messages) {
    average_ += (static_cast<double>(messages) - average_) * kWeight;
    if (lone_ && average_ > kBusy) lone_ = false;
    if (!lone_ && average_ < kLone) lone_ = true;
    return lone_;
  }
  bool lone() const { return lone_; }
  double average() const { return average_; }

 private:
  double average_ = 1.0;
  bool lone_ = true;
};

}  // namespace ec::spool
