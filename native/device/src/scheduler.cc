#include "scheduler.h"

#include <algorithm>
#include <cstring>

#include "clock.h"

namespace xdev {

namespace {
double us(uint64_t ns) { return double(ns) / 1000.0; }
}  // namespace

Scheduler::Scheduler(Backend& backend, int units, bool preempt, std::function<void()> wake_js)
    : backend_(backend), wake_js_(std::move(wake_js)), preempt_(preempt) {
  for (int i = 0; i < units; ++i) threads_.emplace_back([this] { worker(); });
}

Scheduler::~Scheduler() { shutdown(); }

void Scheduler::shutdown() {
  {
    std::lock_guard<std::mutex> lk(m_);
    if (stop_ && threads_.empty()) return;
    stop_ = true;
    for (auto& l : running_) l->kill.store(true, std::memory_order_relaxed);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::lock_guard<std::mutex> lk(m_);
  for (auto& s : streams_) {
    for (auto& it : s.q)
      if (it.type == 0) complete_locked(*it.launch, 1);
    s.q.clear();
  }
  for (auto& e : events_) {
    for (auto& w : e.waiters) done_.push_back(Completion{w.second, 1, 1, 0, 0, 0, 0, 0, 0, 0});
    e.waiters.clear();
  }
}

int Scheduler::create_stream(int priority, Policy policy) {
  std::lock_guard<std::mutex> lk(m_);
  streams_.push_back(Stream{priority, policy, {}, false});
  return int(streams_.size() - 1);
}

bool Scheduler::has_stream(int s) const {
  std::lock_guard<std::mutex> lk(m_);
  return s >= 0 && size_t(s) < streams_.size();
}

bool Scheduler::has_event(uint32_t e) const {
  std::lock_guard<std::mutex> lk(m_);
  return e < events_.size();
}

uint64_t Scheduler::enqueue(int stream, Prepared&& prep) {
  auto l = std::make_shared<Launch>();
  l->prep = std::move(prep);
  std::lock_guard<std::mutex> lk(m_);
  // Stamped under the lock: the instant the scheduler can see the launch, so nothing it
  // starts afterwards can appear to start before this launch was enqueued.
  l->t_enqueue = now_ns();
  Stream& s = streams_[size_t(stream)];
  l->id = next_id_++;
  l->stream = stream;
  l->priority = s.priority;
  const KernelDesc& k = *l->prep.args.k;
  l->restorable = !l->prep.d().idempotent && s.policy == Policy::kSave && !(k.side_effects & kHostVisible);
  ++stats_.launches;
  s.q.push_back(Item{0, l, 0, 0});
  advance_locked();
  maybe_preempt_locked();
  cv_.notify_one();
  return l->id;
}

uint32_t Scheduler::create_event() {
  std::lock_guard<std::mutex> lk(m_);
  events_.emplace_back();
  return uint32_t(events_.size() - 1);
}

void Scheduler::record(int stream, uint32_t event) {
  std::lock_guard<std::mutex> lk(m_);
  Event& e = events_[event];
  streams_[size_t(stream)].q.push_back(Item{1, nullptr, event, ++e.recorded});
  advance_locked();
  cv_.notify_all();
}

void Scheduler::wait(int stream, uint32_t event) {
  std::lock_guard<std::mutex> lk(m_);
  Event& e = events_[event];
  if (e.recorded == 0) return;  // never recorded: nothing to wait for
  streams_[size_t(stream)].q.push_back(Item{2, nullptr, event, e.recorded});
  advance_locked();
}

void Scheduler::notify_event(uint32_t event, double token) {
  std::lock_guard<std::mutex> lk(m_);
  Event& e = events_[event];
  if (e.reached >= e.recorded || stop_) {
    done_.push_back(Completion{token, 1, stop_ ? 1.0 : 0.0, 0, 0, 0, 0, us(now_ns()), 0, 0});
    if (wake_js_) wake_js_();
  } else {
    e.waiters.emplace_back(e.recorded, token);
  }
}

bool Scheduler::event_reached(uint32_t event) {
  std::lock_guard<std::mutex> lk(m_);
  return events_[event].reached >= events_[event].recorded;
}

// Consumes markers at the heads of idle streams until nothing moves.
void Scheduler::advance_locked() {
  bool moved = true;
  while (moved) {
    moved = false;
    for (auto& s : streams_) {
      while (!s.q.empty() && !s.busy) {
        Item& it = s.q.front();
        if (it.type == 1) {
          Event& e = events_[it.event];
          e.reached = std::max(e.reached, it.gen);
          bool woke = false;
          for (size_t i = 0; i < e.waiters.size();) {
            if (e.waiters[i].first <= e.reached) {
              done_.push_back(Completion{e.waiters[i].second, 1, 0, 0, 0, 0, 0, us(now_ns()), 0, 0});
              e.waiters[i] = e.waiters.back();
              e.waiters.pop_back();
              woke = true;
            } else {
              ++i;
            }
          }
          if (woke && wake_js_) wake_js_();
          s.q.pop_front();
          moved = true;
        } else if (it.type == 2) {
          if (events_[it.event].reached < it.gen) break;
          s.q.pop_front();
          moved = true;
        } else {
          break;
        }
      }
    }
  }
}

int Scheduler::pick_locked() {
  advance_locked();
  int best = -1;
  uint64_t best_seq = 0;
  for (size_t i = 0; i < streams_.size(); ++i) {
    const Stream& s = streams_[i];
    if (s.busy || s.q.empty() || s.q.front().type != 0) continue;
    if (observer_ && !observer_->may_start(*s.q.front().launch)) continue;
    uint64_t seq = s.q.front().launch->id;
    // Highest priority first; among equals, the launch enqueued first.
    if (best < 0 || s.priority > streams_[size_t(best)].priority ||
        (s.priority == streams_[size_t(best)].priority && seq < best_seq)) {
      best = int(i);
      best_seq = seq;
    }
  }
  return best;
}

// Whether killing running launch `r` pays (see the rule in scheduler.h).
int Scheduler::kill_worth_locked(const Launch& r, uint64_t now) const {
  if (r.preemptions >= kMaxKills) return 1;
  auto it = ns_per_block_.find(r.prep.args.k);
  if (it == ns_per_block_.end()) return 0;
  const double left = double(r.prep.grid) * it->second - double(now - r.t_last);
  return left > double(kWaitBoundNs) ? 0 : 2;
}

void Scheduler::maybe_preempt_locked() {
  if (idle_ > 0 || running_.empty()) return;
  int best = pick_locked();
  if (best < 0) return;
  const int want = streams_[size_t(best)].priority;
  const uint64_t now = now_ns();
  Launch* victim = nullptr;
  bool lower_running = false;
  int declined = 0;  // why a killable victim was spared: 1 capped, 2 short
  for (auto& r : running_) {
    if (r->kill.load(std::memory_order_relaxed)) return;  // one kill in flight is enough
    if (r->priority >= want) continue;
    lower_running = true;
    if (!preempt_ || !(r->prep.d().idempotent || r->restorable)) continue;
    if (int why = kill_worth_locked(*r, now)) {
      declined = std::max(declined, why);
      continue;
    }
    if (!victim || r->priority < victim->priority || (r->priority == victim->priority && r->t_last > victim->t_last))
      victim = r.get();
  }
  if (victim) {
    victim->kill.store(true, std::memory_order_relaxed);
    ++stats_.kill_requests;
  } else if (lower_running) {
    Launch& w = *streams_[size_t(best)].q.front().launch;
    if (declined) {
      if (!w.avoid_counted) {
        w.avoid_counted = true;
        ++(declined == 1 ? stats_.kills_avoided_cap : stats_.kills_avoided_short);
      }
    } else if (!w.wait_counted) {
      w.wait_counted = true;
      ++stats_.waited_unpreemptible;
    }
  }
}

void Scheduler::complete_locked(const Launch& l, int status) {
  done_.push_back(Completion{double(l.id), 0, double(status), double(l.preemptions), us(l.t_enqueue), us(l.t_first), us(l.t_last),
                             us(l.t_end ? l.t_end : now_ns()), double(l.saved_bytes), double(l.blocks_run)});
  if (wake_js_) wake_js_();
}

// Copies the bytes this instance both reads and writes, so a killed run can be undone.
void Scheduler::take_snapshot(Launch& l) {
  const AccessSets& s = l.prep.d().sets;
  struct Iv {
    uint8_t* base;
    uint32_t slot;
    uint64_t b, e;
  };
  std::vector<Iv> iv;
  for (int w = 0; w < s.nw; ++w)
    for (int r = 0; r < s.nr; ++r) {
      const Range &a = s.writes[w], &b = s.reads[r];
      if (a.slot != b.slot || a.gen != b.gen) continue;
      uint64_t lo = std::max(a.begin, b.begin), hi = std::min(a.end, b.end);
      if (lo < hi) iv.push_back(Iv{nullptr, a.slot, lo, hi});
    }
  // Root base pointers, found through the holds (one per buffer parameter, in order).
  for (auto& v : iv)
    for (int h = 0; h < l.prep.nholds; ++h)
      if (l.prep.holds[h]->index == v.slot) v.base = l.prep.holds[h]->data;
  std::sort(iv.begin(), iv.end(), [](const Iv& x, const Iv& y) { return x.slot != y.slot ? x.slot < y.slot : x.b < y.b; });
  l.saved.clear();
  for (size_t i = 0; i < iv.size();) {
    Iv cur = iv[i++];
    while (i < iv.size() && iv[i].slot == cur.slot && iv[i].b <= cur.e) cur.e = std::max(cur.e, iv[i++].e);
    Snapshot sn{cur.base + cur.b, std::vector<uint8_t>(cur.e - cur.b)};
    backend_.to_host(sn.bytes.data(), sn.at, sn.bytes.size());
    l.saved_bytes += cur.e - cur.b;
    l.saved.push_back(std::move(sn));
  }
  l.snapshot_taken = true;
}

void Scheduler::restore_snapshot(Launch& l) {
  uint64_t n = 0;
  for (auto& sn : l.saved) {
    backend_.to_device(sn.at, sn.bytes.data(), sn.bytes.size());
    n += sn.bytes.size();
  }
  std::lock_guard<std::mutex> lk(m_);
  stats_.restored_bytes += n;
}

void Scheduler::worker() {
  std::unique_lock<std::mutex> lk(m_);
  for (;;) {
    if (stop_) return;
    int si = pick_locked();
    if (si < 0) {
      ++idle_;
      cv_.wait(lk);
      --idle_;
      continue;
    }
    std::shared_ptr<Launch> l = streams_[size_t(si)].q.front().launch;
    streams_[size_t(si)].busy = true;
    running_.push_back(l);
    const uint64_t t = now_ns();
    if (l->starts++ == 0) {
      l->t_first = t;
    } else {
      ++stats_.relaunches;
    }
    l->t_last = t;
    std::shared_ptr<LaunchObserver> obs = observer_;
    lk.unlock();

    if (obs) obs->before_run(*l);
    if (l->restorable && !l->snapshot_taken) take_snapshot(*l);
    const Args& a = l->prep.args;
    const uint32_t grid = l->prep.grid;
    // The backend stops at a block boundary once `kill` is set (CUDA: blocks check a flag on entry).
    const uint32_t b = backend_.run(*a.k, a, grid, l->priority, l->kill);
    const bool killed = b < grid;
    if (killed && l->restorable) restore_snapshot(*l);

    lk.lock();
    l->blocks_run += b;
    stats_.blocks_run += b;
    if (b > 0) {
      // Learn the kernel's time per block (blocks of one kernel cost about the same). A sample
      // counts at most twice the estimate: a unit thread descheduled by the OS is not the kernel.
      const double npb = double(now_ns() - l->t_last) / double(b);
      auto [it, fresh] = ns_per_block_.try_emplace(a.k, npb);
      if (!fresh) it->second = 0.75 * it->second + 0.25 * std::min(npb, 2 * it->second);
    }
    running_.erase(std::find(running_.begin(), running_.end(), l));
    // streams_ may have grown (and moved) while unlocked: index again.
    Stream& st = streams_[size_t(si)];
    st.busy = false;
    if (killed && !stop_) {
      ++l->preemptions;
      ++stats_.preemptions;
      stats_.blocks_discarded += b;
      l->kill.store(false, std::memory_order_relaxed);
    } else {
      l->kill.store(false, std::memory_order_relaxed);
      l->t_end = now_ns();
      st.q.pop_front();
      ++stats_.completed;
      if (obs && !killed) obs->finished(*l);
      if (l->restorable) stats_.saved_bytes += l->saved_bytes;
      complete_locked(*l, killed ? 1 : 0);
      l->prep = Prepared();  // drop the buffer holds now
      l->saved.clear();
    }
    maybe_preempt_locked();
    cv_.notify_all();
  }
}

void Scheduler::set_observer(std::shared_ptr<LaunchObserver> o) {
  std::lock_guard<std::mutex> lk(m_);
  observer_ = std::move(o);
}

void Scheduler::cut(const std::function<void(uint64_t)>& at_cut, const std::function<void(const Launch&)>& pending) {
  std::lock_guard<std::mutex> lk(m_);
  at_cut(next_id_);
  for (auto& r : running_) pending(*r);
  for (auto& s : streams_)
    for (auto& it : s.q)
      if (it.type == 0 && std::find(running_.begin(), running_.end(), it.launch) == running_.end())
        pending(*it.launch);
}

void Scheduler::wake() {
  { std::lock_guard<std::mutex> lk(m_); }
  cv_.notify_all();
}

void Scheduler::drain(std::vector<Completion>* out) {
  std::lock_guard<std::mutex> lk(m_);
  out->swap(done_);
  done_.clear();
}

SchedulerStats Scheduler::stats() {
  std::lock_guard<std::mutex> lk(m_);
  return stats_;
}

void Scheduler::reset_stats() {
  std::lock_guard<std::mutex> lk(m_);
  stats_ = SchedulerStats();
}

}  // namespace xdev
