// The memory store answers exactly as the SQLite store: the same random
// batches go to both (a real SQLite file), and every query the engine makes
// (runs, events, open runs with parts, visibility lists followed page by
// page with every filter and order, counts, purges, payloads) must give the
// same answer from each.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <map>
#include <vector>

#include "garcon/store.h"

namespace garcon::store {
namespace {

std::string Describe(const RunRecord& r) {
  return r.run_id + " " + r.domain + " " + r.workflow_id + " " + r.type_name + "/" +
         r.type_version + " start " + std::to_string(r.start_us) + "#" +
         std::to_string(r.start_seq) + (r.open ? " open" : " closed ") +
         std::to_string(r.close_us) + " " + r.close_status + " " + r.tags + " " + r.state;
}

std::vector<std::string> Describe(const std::vector<RunRecord>& runs) {
  std::vector<std::string> out;
  for (const auto& r : runs) out.push_back(Describe(r));
  return out;
}

class Equivalence {
 public:
  explicit Equivalence(unsigned seed) : rng_(seed) {
    path_ = (std::filesystem::temp_directory_path() /
             ("store-equivalence-" + std::to_string(getpid()) + "-" + std::to_string(seed) + ".db"))
                .string();
    Remove();
    SqliteOptions options;
    options.synchronous_full = false;
    auto opened = OpenSqliteStore(path_, options);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    sqlite_ = *opened;
    memory_ = OpenMemoryStore();
  }
  ~Equivalence() {
    sqlite_.reset();
    Remove();
  }

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  std::string Domain() { return Pick(4) == 0 ? "d2" : "d1"; }

  // A batch of random changes; runs are started, updated, closed.
  Batch RandomBatch() {
    Batch b;
    std::set<std::string> runs_in_batch;
    const int changes = 1 + Pick(6);
    for (int i = 0; i < changes; ++i) {
      switch (Pick(8)) {
        case 0:
        case 1: {  // a new open run
          RunRecord r;
          r.run_id = "r" + std::to_string(++seq_);
          r.domain = Domain();
          r.workflow_id = "w" + std::to_string(Pick(12));
          r.type_name = Pick(2) ? "a" : "b";
          r.type_version = Pick(2) ? "1" : "2";
          r.start_us = 1000 + Pick(40) * 10;  // ties on purpose: start_seq breaks them
          r.start_seq = seq_;
          r.open = true;
          r.tags = Pick(3) == 0 ? "[]"
                                : "[\"t" + std::to_string(Pick(4)) + "\",\"t" +
                                      std::to_string(Pick(4)) + "\"]";
          r.state = "{\"n\":" + std::to_string(Pick(100)) + "}";
          open_.push_back(r);
          runs_in_batch.insert(r.run_id);
          b.runs.push_back(r);
          break;
        }
        case 2: {  // close an open run
          if (open_.empty()) break;
          const int at = Pick(static_cast<int>(open_.size()));
          RunRecord r = open_[at];
          if (!runs_in_batch.insert(r.run_id).second) break;
          open_.erase(open_.begin() + at);
          r.open = false;
          r.close_us = 5000 + static_cast<std::int64_t>(++closes_) * 7;  // unique
          static const char* kStatuses[] = {"COMPLETED", "FAILED", "TERMINATED", "TIMED_OUT"};
          r.close_status = kStatuses[Pick(4)];
          b.runs.push_back(r);
          b.cleared_runs.push_back(r.run_id);
          closed_ids_.push_back(r.run_id);
          break;
        }
        case 3: {  // a run's state
          if (open_.empty()) break;
          const std::string id = open_[Pick(static_cast<int>(open_.size()))].run_id;
          if (!runs_in_batch.insert(id).second) break;
          b.run_states.emplace_back(id, "{\"m\":" + std::to_string(Pick(1000)) + "}");
          break;
        }
        case 4: {  // parts
          if (open_.empty()) break;
          const std::string id = open_[Pick(static_cast<int>(open_.size()))].run_id;
          const auto kind = static_cast<PartKind>(1 + Pick(4));
          const std::string key = std::to_string(Pick(5));
          if (!parts_in_batch_.insert(id + "/" + key + std::to_string(static_cast<int>(kind)))
                   .second) {
            break;
          }
          if (Pick(3) == 0) {
            b.removed_parts.push_back({id, kind, key});
          } else {
            b.parts.push_back({id, kind, key, "v" + std::to_string(Pick(100))});
          }
          break;
        }
        case 5:
        case 6: {  // events
          const bool of_closed = !closed_ids_.empty() && Pick(3) == 0;
          if (open_.empty() && !of_closed) break;
          const std::string id = of_closed
                                     ? closed_ids_[Pick(static_cast<int>(closed_ids_.size()))]
                                     : open_[Pick(static_cast<int>(open_.size()))].run_id;
          std::int64_t& next = next_event_[id];
          const int count = 1 + Pick(4);
          for (int e = 0; e < count; ++e) b.events.push_back({id, ++next, "e" + std::to_string(next)});
          break;
        }
        case 7: {  // a payload (put again: put_us only grows)
          Payload p;
          p.domain = Domain();
          p.key = "k" + std::to_string(Pick(10));
          if (!payloads_in_batch_.insert(p.domain + p.key).second) break;
          p.body = "body of " + p.key;
          p.put_us = 900 + static_cast<std::int64_t>(++puts_) * 3;
          b.payloads.push_back(p);
          break;
        }
      }
    }
    parts_in_batch_.clear();
    payloads_in_batch_.clear();
    return b;
  }

  void Apply() {
    std::vector<Batch> batches;
    const int n = 1 + Pick(3);
    for (int i = 0; i < n; ++i) batches.push_back(RandomBatch());
    ASSERT_TRUE(sqlite_->Apply(batches).ok());
    ASSERT_TRUE(memory_->Apply(batches).ok());
  }

  ClosedQuery RandomQuery() {
    ClosedQuery q;
    q.domain = Pick(5) == 0 ? "none" : Domain();
    q.by_close_time = Pick(2) == 1;
    q.reverse = Pick(2) == 1;
    const std::int64_t base = q.by_close_time ? 5000 : 1000;
    const std::int64_t span = q.by_close_time ? 7 * static_cast<std::int64_t>(closes_ + 1) : 400;
    if (Pick(2)) q.oldest_us = base + Pick(static_cast<int>(span));
    if (Pick(2)) q.latest_us = base + Pick(static_cast<int>(span));
    switch (Pick(6)) {
      case 0:
        q.workflow_id = "w" + std::to_string(Pick(12));
        break;
      case 1:
        q.type_name = Pick(2) ? "a" : "b";
        if (Pick(2)) q.type_version = Pick(2) ? "1" : "2";
        break;
      case 2:
        q.tag = "t" + std::to_string(Pick(5));
        break;
      case 3:
        q.close_status = Pick(2) ? "COMPLETED" : "FAILED";
        break;
      default:
        break;
    }
    return q;
  }

  // Follows the query page by page on both stores, comparing every page.
  void CompareQuery() {
    ClosedQuery q = RandomQuery();
    const std::size_t limit = 1 + static_cast<std::size_t>(Pick(7));
    auto count_s = sqlite_->CountClosed(q);
    auto count_m = memory_->CountClosed(q);
    ASSERT_TRUE(count_s.ok() && count_m.ok());
    ASSERT_EQ(*count_s, *count_m);
    std::size_t seen = 0;
    for (int page = 0; page < 1000; ++page) {
      auto from_sqlite = sqlite_->ListClosed(q, limit);
      auto from_memory = memory_->ListClosed(q, limit);
      ASSERT_TRUE(from_sqlite.ok() && from_memory.ok());
      ASSERT_EQ(Describe(*from_sqlite), Describe(*from_memory))
          << "domain " << q.domain << " by_close " << q.by_close_time << " reverse " << q.reverse
          << " page " << page;
      seen += from_sqlite->size();
      if (from_sqlite->size() < limit) break;
      const RunRecord& last = from_sqlite->back();
      q.after = std::make_pair(q.by_close_time ? last.close_us : last.start_us, last.start_seq);
    }
    EXPECT_EQ(seen, *count_s);
  }

  void CompareRuns() {
    for (std::uint64_t i = 1; i <= seq_ + 1; ++i) {
      const std::string id = "r" + std::to_string(i);
      auto s = sqlite_->FindRun(id);
      auto m = memory_->FindRun(id);
      ASSERT_TRUE(s.ok() && m.ok());
      ASSERT_EQ(s->has_value(), m->has_value()) << id;
      if (s->has_value()) {
        ASSERT_EQ(Describe(**s), Describe(**m));
      }
      const std::int64_t first = 1 + Pick(3);
      const std::int64_t last = first + Pick(6);
      ASSERT_EQ(*sqlite_->ReadEvents(id, first, last), *memory_->ReadEvents(id, first, last)) << id;
    }
  }

  void CompareOpenRuns() {
    auto load = [](Store& store) {
      std::vector<std::string> out;
      const Status status = store.LoadOpenRuns([&](RunRecord run, std::vector<Part> parts) {
        std::string line = Describe(run);
        std::set<std::string> sorted;
        for (const Part& p : parts) {
          sorted.insert(std::to_string(static_cast<int>(p.kind)) + ":" + p.key + "=" + p.value);
        }
        for (const auto& p : sorted) line += " " + p;
        out.push_back(line);
        return Status::Ok();
      });
      EXPECT_TRUE(status.ok());
      return out;
    };
    ASSERT_EQ(load(*sqlite_), load(*memory_));
    const Summary s = *sqlite_->Summarize();
    const Summary m = *memory_->Summarize();
    ASSERT_EQ(s.max_start_seq, m.max_start_seq);
    ASSERT_EQ(s.closed_runs, m.closed_runs);
    ASSERT_EQ(*sqlite_->LoadDomains(), *memory_->LoadDomains());
  }

  void CompareDomainThings(const std::string& domain) {
    ASSERT_EQ(*sqlite_->OldestClose(domain), *memory_->OldestClose(domain));
    for (int k = 0; k < 11; ++k) {
      const std::string key = "k" + std::to_string(k);
      ASSERT_EQ(*sqlite_->ReadPayload(domain, key), *memory_->ReadPayload(domain, key)) << key;
    }
  }

  void Purge() {
    const std::string domain = Domain();
    const std::int64_t cutoff = 5000 + Pick(static_cast<int>(7 * (closes_ + 1)));
    const std::size_t limit = static_cast<std::size_t>(Pick(5));
    auto s = sqlite_->PurgeClosed(domain, cutoff, limit);
    auto m = memory_->PurgeClosed(domain, cutoff, limit);
    ASSERT_TRUE(s.ok() && m.ok());
    ASSERT_EQ(s->purged, m->purged);
    ASSERT_EQ(s->more, m->more);
    const std::int64_t before = 900 + Pick(static_cast<int>(3 * (puts_ + 1)));
    const std::int64_t margin = Pick(3) * 50;
    auto ps = sqlite_->PurgePayloads(domain, before, margin, limit);
    auto pm = memory_->PurgePayloads(domain, before, margin, limit);
    ASSERT_TRUE(ps.ok() && pm.ok());
    ASSERT_EQ(ps->purged, pm->purged);
    ASSERT_EQ(ps->more, pm->more);
  }

  void Domains() {
    Batch b;
    b.domains = {{Domain(), "record " + std::to_string(Pick(100))}};
    ASSERT_TRUE(sqlite_->Apply(b).ok());
    ASSERT_TRUE(memory_->Apply(b).ok());
  }

 private:
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
  }

  std::mt19937 rng_;
  std::string path_;
  std::shared_ptr<Store> sqlite_;
  std::shared_ptr<Store> memory_;
  std::uint64_t seq_ = 0;
  std::uint64_t closes_ = 0;
  std::uint64_t puts_ = 0;
  std::vector<RunRecord> open_;
  std::vector<std::string> closed_ids_;
  std::map<std::string, std::int64_t> next_event_;
  std::set<std::string> parts_in_batch_;
  std::set<std::string> payloads_in_batch_;
};

class StoreEquivalenceTest : public ::testing::TestWithParam<unsigned> {};

TEST_P(StoreEquivalenceTest, MemoryAnswersAsSqlite) {
  Equivalence e(GetParam());
  for (int step = 0; step < 400; ++step) {
    ASSERT_NO_FATAL_FAILURE(e.Apply());
    if (step % 5 == 0) {
      ASSERT_NO_FATAL_FAILURE(e.Domains());
    }
    for (int q = 0; q < 3; ++q) ASSERT_NO_FATAL_FAILURE(e.CompareQuery());
    if (step % 20 == 0) {
      ASSERT_NO_FATAL_FAILURE(e.CompareRuns());
      ASSERT_NO_FATAL_FAILURE(e.CompareOpenRuns());
      ASSERT_NO_FATAL_FAILURE(e.CompareDomainThings("d1"));
      ASSERT_NO_FATAL_FAILURE(e.CompareDomainThings("d2"));
    }
    if (step % 7 == 6) {
      ASSERT_NO_FATAL_FAILURE(e.Purge());
    }
  }
  ASSERT_NO_FATAL_FAILURE(e.CompareRuns());
  ASSERT_NO_FATAL_FAILURE(e.CompareOpenRuns());
}

INSTANTIATE_TEST_SUITE_P(Seeds, StoreEquivalenceTest, ::testing::Values(1u, 2u, 3u, 4u));

}  // namespace
}  // namespace garcon::store
