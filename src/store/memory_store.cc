#include <map>
#include <mutex>

#include "garcon/store.h"

namespace garcon::store {
namespace {

class MemoryStore final : public Store {
 public:
  Status Apply(const Batch& batch) override {
    std::lock_guard lock(mu_);
    for (const auto& p : batch.puts) records_[p.kind][p.key] = p.value;
    for (const auto& d : batch.deletes) records_[d.kind].erase(d.key);
    for (const auto& run : batch.purged_runs) events_.erase(run);
    for (const auto& e : batch.events) events_[e.run_id][e.event_id] = e.body;
    return Status::Ok();
  }

  Result<std::vector<std::pair<std::string, std::string>>> Load(std::string_view kind) override {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, std::string>> out;
    auto it = records_.find(std::string(kind));
    if (it == records_.end()) return out;
    out.assign(it->second.begin(), it->second.end());
    return out;
  }

  Result<std::vector<std::string>> ReadEvents(std::string_view run_id, std::int64_t first,
                                              std::int64_t last) override {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    auto it = events_.find(std::string(run_id));
    if (it == events_.end()) return out;
    for (auto e = it->second.lower_bound(first); e != it->second.end() && e->first <= last; ++e) {
      out.push_back(e->second);
    }
    return out;
  }

  bool durable() const override { return false; }

 private:
  std::mutex mu_;
  std::map<std::string, std::map<std::string, std::string>> records_;
  std::map<std::string, std::map<std::int64_t, std::string>> events_;
};

}  // namespace

std::shared_ptr<Store> OpenMemoryStore() { return std::make_shared<MemoryStore>(); }

}  // namespace garcon::store
