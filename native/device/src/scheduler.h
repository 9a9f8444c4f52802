// Prioritised streams on a pool of device threads ("units"), events, and idempotency-aware
// preemption.
//
// A launch runs on one unit, block by block, until it completes. When a launch becomes
// ready on a stream of higher priority than a running one and no unit is free:
//  - a running idempotent instance is killed at its next block boundary and relaunched from
//    scratch later (kill-and-relaunch);
//  - a running non-idempotent instance on a stream with policy `save` was made re-executable
//    at its start (the bytes it both reads and writes were copied); it is killed the same
//    way, and those bytes are restored before it is relaunched;
//  - any other instance runs to completion: the high-priority launch waits.
// A kill throws away the victim's blocks done so far, so it is requested only when it pays
// (chosen by measurement, bench/preempt.ts: without these rules the lidar branch's voxel
// kernels were killed several times a frame and redone from scratch):
//  - at most kMaxKills kills per launch: after that it runs to completion and the high-
//    priority launch waits for it (the preempted branch is never starved);
//  - only when the victim's estimated remaining run exceeds kWaitBoundNs (REEF's rule: kill
//    only when the high-priority work would otherwise wait longer than a bound; a short
//    victim just finishes). Remaining run = grid x ns per block (learned per kernel from
//    earlier runs, an exponential average) - time since this instance started. A kernel with
//    no estimate yet may be killed.
// Declined kills are counted once per waiting launch (kills_avoided_cap, kills_avoided_short).
// Also tried: sparing victims past half their run (remaining < time already spent, the work
// a kill discards); on top of these two rules it declined few more kills and gained nothing
// measurable (one run each on a shared machine), so it was left out.
// Launches on one stream run in order; a stream's head runs only when the events it waits
// for were reached.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "backend.h"
#include "validate.h"

namespace xdev {

enum class Policy : int { kWait = 0, kSave = 1 };

constexpr uint32_t kMaxKills = 2;
constexpr uint64_t kWaitBoundNs = 200'000;

struct Snapshot {
  uint8_t* at;
  std::vector<uint8_t> bytes;
};

struct Launch {
  uint64_t id = 0;
  Prepared prep;
  int stream = 0;
  int priority = 0;
  bool restorable = false;  // policy save, not idempotent, no host-visible effects
  std::atomic<bool> kill{false};
  uint32_t starts = 0, preemptions = 0;
  uint64_t blocks_run = 0;
  bool wait_counted = false, avoid_counted = false;
  uint64_t t_enqueue = 0, t_first = 0, t_last = 0, t_end = 0;
  std::vector<Snapshot> saved;
  uint64_t saved_bytes = 0;
  bool snapshot_taken = false;
};

// Checkpoint/restore watches every launch (native/device/src/checkpoint.h): whether it may
// start now, what it touches just before its first block runs, and when it completed.
class LaunchObserver {
 public:
  virtual ~LaunchObserver() = default;
  virtual bool may_start(const Launch& l) = 0;   // scheduler lock held: keep it cheap
  virtual void before_run(const Launch& l) = 0;  // on the unit thread, no lock held
  virtual void finished(const Launch& l) = 0;    // scheduler lock held
};

// What JS receives when a launch finishes or an awaited event is reached.
struct Completion {
  double token;
  double kind;    // 0 launch, 1 event
  double status;  // 0 done, 1 device closed
  double preemptions;
  double t_enqueue_us, t_first_us, t_last_us, t_end_us;
  double saved_bytes;
  double blocks_run;
};
constexpr int kCompletionFields = 10;

struct SchedulerStats {
  uint64_t launches = 0, completed = 0, preemptions = 0, relaunches = 0, kill_requests = 0;
  uint64_t saved_bytes = 0, restored_bytes = 0, blocks_run = 0, blocks_discarded = 0;
  uint64_t waited_unpreemptible = 0;  // high-priority launches that had to wait for a non-killable one
  uint64_t kills_avoided_cap = 0;      // ... for a killable one already killed kMaxKills times
  uint64_t kills_avoided_short = 0;    // ... for a killable one whose remaining run was short
};

class Scheduler {
 public:
  // preempt = false: never kill running work (the wait-for-completion baseline).
  Scheduler(Backend& backend, int units, bool preempt, std::function<void()> wake_js);
  ~Scheduler();
  void shutdown();  // kills running work at block boundaries, joins the units, fails the rest

  int create_stream(int priority, Policy policy);
  bool has_stream(int s) const;
  uint64_t enqueue(int stream, Prepared&& prep);
  uint32_t create_event();
  bool has_event(uint32_t e) const;
  void record(int stream, uint32_t event);
  void wait(int stream, uint32_t event);
  // Posts a completion with `token` once everything recorded on `event` so far is reached.
  void notify_event(uint32_t event, double token);
  bool event_reached(uint32_t event);
  void drain(std::vector<Completion>* out);
  SchedulerStats stats();
  void reset_stats();
  int units() const { return int(threads_.size()); }
  // Checkpoint/restore hooks: the observer, and the cut between the launches enqueued so far
  // and later ones: under the scheduler lock, `at_cut` gets the id the next launch will get,
  // then `pending` sees each launch enqueued before it that has not completed.
  void set_observer(std::shared_ptr<LaunchObserver> o);
  void cut(const std::function<void(uint64_t next_id)>& at_cut, const std::function<void(const Launch&)>& pending);
  void wake();  // re-examines stream heads the observer held back

 private:
  struct Item {
    int type;  // 0 launch, 1 record, 2 wait
    std::shared_ptr<Launch> launch;
    uint32_t event = 0;
    uint64_t gen = 0;
  };
  struct Stream {
    int priority;
    Policy policy;
    std::deque<Item> q;
    bool busy = false;
  };
  struct Event {
    uint64_t recorded = 0, reached = 0;
    std::vector<std::pair<uint64_t, double>> waiters;
  };
  void worker();
  void advance_locked();
  int pick_locked();
  void maybe_preempt_locked();
  void complete_locked(const Launch& l, int status);
  int kill_worth_locked(const Launch& r, uint64_t now) const;  // 0 kill, 1 capped, 2 short
  void take_snapshot(Launch& l);
  void restore_snapshot(Launch& l);

  mutable std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
  std::vector<Stream> streams_;
  std::vector<Event> events_;
  std::vector<std::shared_ptr<Launch>> running_;
  std::vector<Completion> done_;
  Backend& backend_;
  std::function<void()> wake_js_;
  SchedulerStats stats_;
  uint64_t next_id_ = 1;
  int idle_ = 0;
  bool stop_ = false;
  bool preempt_ = true;
  std::shared_ptr<LaunchObserver> observer_;
  std::unordered_map<const KernelDesc*, double> ns_per_block_;  // learned from finished runs
};

}  // namespace xdev
