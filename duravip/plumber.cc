#include "duravip/plumber.h"

namespace ec::duravip {

Status FakePlumber::Fail(const std::string& op) {
  auto it = fail_next_.find(op);
  if (it == fail_next_.end()) return Status::Ok();
  Status s = it->second;
  fail_next_.erase(it);
  return s;
}

Status FakePlumber::Add(const VipAddress& vip) {
  std::lock_guard lock(mu_);
  calls_.push_back("add " + vip.ToString());
  EC_RETURN_IF_ERROR(Fail("add"));
  if (!interfaces_.empty() && interfaces_.count(vip.interface) == 0) {
    return NotFound("no network interface named " + vip.interface);
  }
  addresses_.insert(vip);
  return Status::Ok();
}

Status FakePlumber::Remove(const VipAddress& vip) {
  std::lock_guard lock(mu_);
  calls_.push_back("remove " + vip.ToString());
  EC_RETURN_IF_ERROR(Fail("remove"));
  addresses_.erase(vip);
  return Status::Ok();
}

Result<bool> FakePlumber::Present(const VipAddress& vip) {
  std::lock_guard lock(mu_);
  calls_.push_back("present " + vip.ToString());
  EC_RETURN_IF_ERROR(Fail("present"));
  return addresses_.count(vip) != 0;
}

Status FakePlumber::Announce(const VipAddress& vip, int count) {
  std::lock_guard lock(mu_);
  calls_.push_back("announce " + vip.ToString() + " x" + std::to_string(count));
  EC_RETURN_IF_ERROR(Fail("announce"));
  if (!interfaces_.empty() && interfaces_.count(vip.interface) == 0) {
    return NotFound("no network interface named " + vip.interface);
  }
  announced_ += count;
  return Status::Ok();
}

void FakePlumber::FailNext(const std::string& op, Status status) {
  std::lock_guard lock(mu_);
  fail_next_[op] = std::move(status);
}

void FakePlumber::SetInterfaces(std::set<std::string> names) {
  std::lock_guard lock(mu_);
  interfaces_ = std::move(names);
}

void FakePlumber::Preload(const VipAddress& vip) {
  std::lock_guard lock(mu_);
  addresses_.insert(vip);
}

std::set<VipAddress> FakePlumber::addresses() const {
  std::lock_guard lock(mu_);
  return addresses_;
}

std::vector<std::string> FakePlumber::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

size_t FakePlumber::announced() const {
  std::lock_guard lock(mu_);
  return announced_;
}

}  // namespace ec::duravip
