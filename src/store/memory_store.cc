// The memory store: the Store contract on plain C++ containers, lost when the
// store is destroyed. It is where the memory-only engine keeps its closed
// runs, so it is on that engine's hot path: a closed run is a hash-table
// entry and two ordered-index entries, not a dozen B-tree rows and indexes
// of an SQL engine (docs/storage.md, "The memory store").
//
// The queries answer exactly as the SQLite store's: the same orders, the
// same keyset paging, the same filters. Visibility lists walk a domain's
// closed runs in time order, as the SQLite store's indexes do; a workflowId
// filter uses an index of its own.
#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <unordered_map>

#include "garcon/service.h"
#include "garcon/store.h"

namespace garcon::store {
namespace {

// A (time, start_seq) position in a domain's closed runs, and the run there.
struct IndexKey {
  std::int64_t time = 0;
  std::uint64_t seq = 0;
  const std::string* run_id = nullptr;  // the key of the run's entry in runs_
};
using TimeSeq = std::pair<std::int64_t, std::uint64_t>;

// Orders keys by (time, start_seq, run_id); against a bare TimeSeq it
// compares (time, start_seq) only, which is what keyset paging needs.
struct IndexLess {
  using is_transparent = void;
  bool operator()(const IndexKey& a, const IndexKey& b) const {
    if (a.time != b.time) return a.time < b.time;
    if (a.seq != b.seq) return a.seq < b.seq;
    return *a.run_id < *b.run_id;
  }
  bool operator()(const IndexKey& a, const TimeSeq& b) const {
    return TimeSeq(a.time, a.seq) < b;
  }
  bool operator()(const TimeSeq& a, const IndexKey& b) const {
    return a < TimeSeq(b.time, b.seq);
  }
};
using TimeIndex = std::set<IndexKey, IndexLess>;

struct RunEntry {
  RunRecord record;
  std::vector<std::string> tags;  // `record.tags` parsed, for the tag filter
  std::map<std::pair<int, std::string>, std::string> parts;
  std::vector<std::pair<std::int64_t, std::string>> events;  // by event id
};

struct DomainIndexes {
  TimeIndex closed_by_start;
  TimeIndex closed_by_close;
  // Open runs' start times; with closed_by_start, the earliest start of
  // any run (PurgePayloads' cutoff). An engine without a store of the
  // user's writes closed runs only, so this stays empty there.
  std::multiset<std::int64_t> open_starts;
  // (workflowId) -> the closed runs of the domain with it; the key views
  // the run's own record, which is taken out of the index before it changes.
  std::unordered_multimap<std::string_view, const std::string*> closed_by_workflow;
  // Payloads: (key) -> payload, and (put_us, key) in put order.
  std::unordered_map<std::string, Payload> payloads;
  std::set<std::pair<std::int64_t, std::string>> payloads_by_put;
};

std::vector<std::string> ParseTags(const std::string& text) {
  std::vector<std::string> tags;
  if (text.empty() || text == "[]") return tags;
  const Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) return tags;
  for (const Json& tag : parsed) {
    if (tag.is_string()) tags.push_back(tag.get<std::string>());
  }
  return tags;
}

class MemoryStore final : public Store {
 public:
  Status Apply(std::span<const Batch> batches) override {
    std::vector<Batch> copy(batches.begin(), batches.end());
    return Consume(copy);
  }

  Status Consume(std::span<Batch> batches) override {
    std::lock_guard lock(mu_);
    for (Batch& b : batches) ApplyLocked(b);
    return Status::Ok();
  }

  Result<std::vector<std::pair<std::string, std::string>>> LoadDomains() override {
    std::lock_guard lock(mu_);
    return std::vector<std::pair<std::string, std::string>>(domains_.begin(), domains_.end());
  }

  Status LoadOpenRuns(const std::function<Status(RunRecord, std::vector<Part>)>& visit) override {
    std::vector<std::pair<RunRecord, std::vector<Part>>> open;
    {
      std::lock_guard lock(mu_);
      for (const auto& entry : runs_) {
        if (!HasRow(entry.second) || !entry.second.record.open) continue;
        std::vector<Part> parts;
        for (const auto& part : entry.second.parts) {
          parts.push_back(Part{entry.first, static_cast<PartKind>(part.first.first),
                               part.first.second, part.second});
        }
        open.emplace_back(entry.second.record, std::move(parts));
      }
    }
    std::sort(open.begin(), open.end(), [](const auto& a, const auto& b) {
      return a.first.start_seq < b.first.start_seq;
    });
    // Visited without the lock: the visitor may read events.
    for (auto& run : open) {
      const Status status = visit(std::move(run.first), std::move(run.second));
      if (!status.ok()) return status;
    }
    return Status::Ok();
  }

  Result<Summary> Summarize() override {
    std::lock_guard lock(mu_);
    Summary summary;
    for (const auto& entry : runs_) {
      if (!HasRow(entry.second)) continue;
      summary.max_start_seq = std::max(summary.max_start_seq, entry.second.record.start_seq);
      if (!entry.second.record.open) ++summary.closed_runs;
    }
    return summary;
  }

  Result<std::optional<RunRecord>> FindRun(std::string_view run_id) override {
    std::lock_guard lock(mu_);
    const auto it = runs_.find(std::string(run_id));
    if (it == runs_.end() || !HasRow(it->second)) return std::optional<RunRecord>();
    return std::optional<RunRecord>(it->second.record);
  }

  Result<std::vector<std::string>> ReadEvents(std::string_view run_id, std::int64_t first,
                                              std::int64_t last) override {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    const auto it = runs_.find(std::string(run_id));
    if (it == runs_.end()) return out;
    const auto& events = it->second.events;
    auto e = std::lower_bound(events.begin(), events.end(), first,
                              [](const auto& event, std::int64_t id) { return event.first < id; });
    for (; e != events.end() && e->first <= last; ++e) out.push_back(e->second);
    return out;
  }

  Result<std::vector<RunRecord>> ListClosed(const ClosedQuery& q, std::size_t limit) override {
    std::lock_guard lock(mu_);
    std::vector<RunRecord> out;
    Walk(q, [&](const RunEntry& run) {
      if (out.size() >= limit) return false;
      out.push_back(run.record);
      return true;
    });
    return out;
  }

  Result<std::size_t> CountClosed(const ClosedQuery& q) override {
    std::lock_guard lock(mu_);
    std::size_t count = 0;
    ClosedQuery all = q;
    all.after.reset();
    Walk(all, [&](const RunEntry&) {
      ++count;
      return true;
    });
    return count;
  }

  Result<PurgeResult> PurgeClosed(std::string_view domain, std::int64_t cutoff_us,
                                  std::size_t limit) override {
    std::lock_guard lock(mu_);
    PurgeResult result;
    const auto d = domains_index_.find(std::string(domain));
    if (d == domains_index_.end()) return result;
    TimeIndex& by_close = d->second.closed_by_close;
    while (!by_close.empty() && by_close.begin()->time <= cutoff_us) {
      if (result.purged == limit) {
        result.more = true;
        break;
      }
      EraseRun(*by_close.begin()->run_id);
      ++result.purged;
    }
    return result;
  }

  Result<std::optional<std::int64_t>> OldestClose(std::string_view domain) override {
    std::lock_guard lock(mu_);
    const auto d = domains_index_.find(std::string(domain));
    if (d == domains_index_.end() || d->second.closed_by_close.empty()) {
      return std::optional<std::int64_t>();
    }
    return std::optional<std::int64_t>(d->second.closed_by_close.begin()->time);
  }

  Result<std::optional<std::string>> ReadPayload(std::string_view domain,
                                                 std::string_view key) override {
    std::lock_guard lock(mu_);
    const auto d = domains_index_.find(std::string(domain));
    if (d == domains_index_.end()) return std::optional<std::string>();
    const auto p = d->second.payloads.find(std::string(key));
    if (p == d->second.payloads.end()) return std::optional<std::string>();
    return std::optional<std::string>(p->second.body);
  }

  Result<PurgeResult> PurgePayloads(std::string_view domain, std::int64_t before_us,
                                    std::int64_t margin_us, std::size_t limit) override {
    std::lock_guard lock(mu_);
    PurgeResult result;
    const auto d = domains_index_.find(std::string(domain));
    if (d == domains_index_.end()) return result;
    DomainIndexes& index = d->second;
    std::int64_t cutoff = before_us;
    if (!index.open_starts.empty()) cutoff = std::min(cutoff, *index.open_starts.begin());
    if (!index.closed_by_start.empty()) {
      cutoff = std::min(cutoff, index.closed_by_start.begin()->time);
    }
    cutoff -= margin_us;
    while (!index.payloads_by_put.empty() && index.payloads_by_put.begin()->first < cutoff) {
      if (result.purged == limit) {
        result.more = true;
        break;
      }
      index.payloads.erase(index.payloads_by_put.begin()->second);
      index.payloads_by_put.erase(index.payloads_by_put.begin());
      ++result.purged;
    }
    return result;
  }

  bool durable() const override { return false; }

 private:
  void ApplyLocked(Batch& batch) {
    for (auto& domain : batch.domains) domains_[domain.first] = std::move(domain.second);
    for (RunRecord& r : batch.runs) UpsertRun(std::move(r));
    for (auto& run_state : batch.run_states) {
      const auto it = runs_.find(run_state.first);
      if (it != runs_.end() && HasRow(it->second)) {
        it->second.record.state = std::move(run_state.second);
      }
    }
    for (const auto& run_id : batch.cleared_runs) {
      const auto it = runs_.find(run_id);
      if (it != runs_.end()) it->second.parts.clear();
    }
    for (Part& p : batch.parts) {
      EntryFor(p.run_id).parts[{static_cast<int>(p.kind), p.key}] = std::move(p.value);
    }
    for (const PartKey& p : batch.removed_parts) {
      const auto it = runs_.find(p.run_id);
      if (it != runs_.end()) it->second.parts.erase({static_cast<int>(p.kind), p.key});
    }
    RunEntry* entry = nullptr;
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
      Event& e = batch.events[i];
      if (i == 0 || batch.events[i - 1].run_id != e.run_id) {
        // A run's events come together: room for all of them at once,
        // growing geometrically still (a run gets a few events per call).
        entry = &EntryFor(e.run_id);
        std::size_t same = 1;
        while (i + same < batch.events.size() && batch.events[i + same].run_id == e.run_id) ++same;
        const std::size_t needed = entry->events.size() + same;
        if (needed > entry->events.capacity()) {
          entry->events.reserve(std::max(needed, 2 * entry->events.capacity()));
        }
      }
      auto& events = entry->events;
      if (events.empty() || events.back().first < e.event_id) {
        events.emplace_back(e.event_id, std::move(e.body));
        continue;
      }
      auto at = std::lower_bound(
          events.begin(), events.end(), e.event_id,
          [](const auto& event, std::int64_t id) { return event.first < id; });
      if (at != events.end() && at->first == e.event_id) {
        at->second = std::move(e.body);
      } else {
        events.emplace(at, e.event_id, std::move(e.body));
      }
    }
    for (Payload& p : batch.payloads) {
      DomainIndexes& index = domains_index_[p.domain];
      const auto found = index.payloads.find(p.key);
      if (found == index.payloads.end()) {
        index.payloads_by_put.emplace(p.put_us, p.key);
        std::string key = p.key;
        index.payloads.emplace(std::move(key), std::move(p));
      } else if (p.put_us > found->second.put_us) {
        index.payloads_by_put.erase({found->second.put_us, p.key});
        found->second.put_us = p.put_us;
        index.payloads_by_put.emplace(p.put_us, p.key);
      }
    }
  }

  // The entry of `run_id`, created without a row if missing: as in the
  // SQLite store, parts and events may be written for a run whose row is
  // not (yet) there; they are read only once it is.
  RunEntry& EntryFor(const std::string& run_id) { return runs_[run_id]; }
  // Whether the entry has a run row (an entry without one has an empty id).
  static bool HasRow(const RunEntry& entry) { return !entry.record.run_id.empty(); }

  void UpsertRun(RunRecord r) {
    const auto inserted = runs_.try_emplace(r.run_id);
    RunEntry& entry = inserted.first->second;
    const std::string* id = &inserted.first->first;
    const bool had_row = HasRow(entry);
    if (had_row) RemoveFromIndexes(*id, entry);
    if (!had_row || entry.record.tags != r.tags) entry.tags = ParseTags(r.tags);
    entry.record = std::move(r);
    if (entry.record.open) {  // as the SQLite store reads an open run's NULL columns
      entry.record.close_us = 0;
      entry.record.close_status.clear();
    }
    AddToIndexes(*id, entry);
  }

  void AddToIndexes(const std::string& id, const RunEntry& entry) {
    const RunRecord& r = entry.record;
    DomainIndexes& index = domains_index_[r.domain];
    if (r.open) {
      index.open_starts.insert(r.start_us);
    } else {
      index.closed_by_workflow.emplace(r.workflow_id, &id);
      index.closed_by_start.insert(IndexKey{r.start_us, r.start_seq, &id});
      index.closed_by_close.insert(IndexKey{r.close_us, r.start_seq, &id});
    }
  }

  void RemoveFromIndexes(const std::string& id, const RunEntry& entry) {
    const RunRecord& r = entry.record;
    DomainIndexes& index = domains_index_[r.domain];
    if (r.open) {
      const auto start = index.open_starts.find(r.start_us);
      if (start != index.open_starts.end()) index.open_starts.erase(start);
    } else {
      const auto runs = index.closed_by_workflow.equal_range(r.workflow_id);
      for (auto it = runs.first; it != runs.second; ++it) {
        if (it->second == &id) {
          index.closed_by_workflow.erase(it);
          break;
        }
      }
      index.closed_by_start.erase(IndexKey{r.start_us, r.start_seq, &id});
      index.closed_by_close.erase(IndexKey{r.close_us, r.start_seq, &id});
    }
  }

  void EraseRun(const std::string& run_id) {
    const auto it = runs_.find(run_id);
    if (it == runs_.end()) return;
    if (HasRow(it->second)) RemoveFromIndexes(it->first, it->second);
    runs_.erase(it);
  }

  static bool Matches(const ClosedQuery& q, const RunRecord& r,
                      const std::vector<std::string>& tags) {
    if (q.workflow_id && r.workflow_id != *q.workflow_id) return false;
    if (q.type_name) {
      if (r.type_name != *q.type_name) return false;
      if (q.type_version && r.type_version != *q.type_version) return false;
    }
    if (q.tag && std::find(tags.begin(), tags.end(), *q.tag) == tags.end()) return false;
    if (q.close_status && r.close_status != *q.close_status) return false;
    return true;
  }

  // Calls `visit` on each closed run matching `q`, in its order, from after
  // `q.after`, until `visit` returns false.
  template <typename Visit>
  void Walk(const ClosedQuery& q, Visit&& visit) const {
    const auto d = domains_index_.find(q.domain);
    if (d == domains_index_.end()) return;
    const std::int64_t latest = q.latest_us.value_or(std::numeric_limits<std::int64_t>::max());
    if (q.workflow_id) {
      WalkWorkflow(d->second, q, latest, visit);
      return;
    }
    const TimeIndex& index = q.by_close_time ? d->second.closed_by_close : d->second.closed_by_start;
    constexpr std::uint64_t kMaxSeq = std::numeric_limits<std::uint64_t>::max();
    if (q.reverse) {  // oldest first
      auto it = index.lower_bound(TimeSeq(q.oldest_us, 0));
      if (q.after) {  // the later of the two starts
        const auto past = index.upper_bound(*q.after);
        if (it != index.end() && (past == index.end() || IndexLess()(*it, *past))) it = past;
      }
      for (; it != index.end() && it->time <= latest; ++it) {
        const RunEntry& run = runs_.at(*it->run_id);
        if (Matches(q, run.record, run.tags) && !visit(run)) return;
      }
      return;
    }
    auto it = index.upper_bound(TimeSeq(latest, kMaxSeq));  // newest first
    if (q.after) {  // the earlier of the two ends
      const auto before = index.lower_bound(*q.after);
      if (before != index.end() && (it == index.end() || IndexLess()(*before, *it))) it = before;
    }
    while (it != index.begin()) {
      --it;
      if (it->time < q.oldest_us) return;
      const RunEntry& run = runs_.at(*it->run_id);
      if (Matches(q, run.record, run.tags) && !visit(run)) return;
    }
  }

  // A workflowId filter: that workflow's runs, sorted as the query asks.
  template <typename Visit>
  void WalkWorkflow(const DomainIndexes& index, const ClosedQuery& q, std::int64_t latest,
                    Visit&& visit) const {
    const auto runs = index.closed_by_workflow.equal_range(*q.workflow_id);
    std::vector<std::pair<IndexKey, const RunEntry*>> found;
    for (auto at = runs.first; at != runs.second; ++at) {
      const std::string* id = at->second;
      const RunEntry& run = runs_.at(*id);  // closed: only closed runs are indexed
      const RunRecord& r = run.record;
      const IndexKey key{q.by_close_time ? r.close_us : r.start_us, r.start_seq, id};
      if (key.time < q.oldest_us || key.time > latest) continue;
      if (q.after) {
        const bool past = q.reverse ? IndexLess()(*q.after, key) : IndexLess()(key, *q.after);
        if (!past) continue;
      }
      if (!Matches(q, r, run.tags)) continue;
      found.emplace_back(key, &run);
    }
    std::sort(found.begin(), found.end(), [&](const auto& a, const auto& b) {
      return q.reverse ? IndexLess()(a.first, b.first) : IndexLess()(b.first, a.first);
    });
    for (const auto& run : found) {
      if (!visit(*run.second)) return;
    }
  }

  std::mutex mu_;
  std::map<std::string, std::string> domains_;
  std::unordered_map<std::string, RunEntry> runs_;
  std::unordered_map<std::string, DomainIndexes> domains_index_;
};

}  // namespace

std::shared_ptr<Store> OpenMemoryStore() { return std::make_shared<MemoryStore>(); }

}  // namespace garcon::store
